"""Families of danger the line hears in general wording, each with messages written for this file
(none taken from the labelled sets), and ordinary messages sharing their words that stay silent."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline_bridge.engine.danger import Danger
from tests.conftest import PROJECT

DANGER_FILE = PROJECT / "flows" / "danger.toml"


@pytest.fixture(scope="module")
def danger() -> Danger:
    return Danger.load(DANGER_FILE)


# --- A greeting before a plea ------------------------------------------------------------------

# A plea the line hears, and the same plea after greetings: the greeting changes nothing.
PLEAS = [
    "necesito ayuda",
    "ayuda por favor",
    "necesito ayuda urgente",
    "i need help",
    "i need help please",
    "help me please",
]
GREETINGS = [
    "hola",
    "Hola!!",
    "holaa buenas noches,",
    "buenos días.",
    "Buenas tardes",
    "oiga",
    "hi",
    "hello,",
    "hey there",
    "good evening.",
    "hiii",
]


@pytest.mark.parametrize("plea", PLEAS)
@pytest.mark.parametrize("greeting", GREETINGS)
def test_a_plea_after_a_greeting_is_heard_as_the_plea_alone(
    danger: Danger, greeting: str, plea: str
) -> None:
    assert danger.found_in(plea), plea
    assert danger.found_in(f"{greeting} {plea}"), f"{greeting} {plea}"


# A request for the menu or an ordinary question stays ordinary after a greeting too: "can you
# help me" to a help line asks what it offers.
@pytest.mark.parametrize(
    "text",
    [
        "can you help me",
        "hey can u help me",
        "hi can you help me",
        "hola me pueden ayudar",
        "buenas tardes, me pueden ayudar",
        "hola necesito ayuda con la renta",
        "hi i need help finding a dentist",
        "buenos dias a que hora abren",
        "hello what are your hours",
        "ayuda",
        "hola ayuda",
        "hola",
        "hi",
    ],
)
def test_a_greeting_before_an_ordinary_message_stays_silent(danger: Danger, text: str) -> None:
    assert not danger.found_in(text), text


def test_only_the_opening_greeting_is_left_out(danger: Danger) -> None:
    assert danger.without_greeting("Hola, buenas noches... necesito ayuda") == "necesito ayuda"
    assert danger.without_greeting("hey there! he hit me") == "he hit me"
    assert danger.without_greeting("hola") == "hola"
    assert danger.without_greeting("necesito ayuda, hola") == "necesito ayuda, hola"
    # "yo" is Spanish "I", not a greeting
    assert danger.without_greeting("yo no puedo salir") == "yo no puedo salir"


def test_the_language_of_a_plea_after_a_greeting_is_heard(danger: Danger) -> None:
    assert danger.language_of("hola, necesito ayuda", ["en", "es"]) == "es"
    assert danger.language_of("hello, i need help", ["en", "es"]) == "en"


# --- Families heard by their rules, in both languages ---------------------------------------------

# Each message is heard by the concept named (the rules alone) and by the line as a whole.
FAMILIES = [
    # Not let out even on a day off ("day off" alone is an ordinary sense of being kept in).
    ("kept_in_day_off", "even on my day off im not allowed to leave the ranch"),
    ("kept_in_day_off", "on my days off the lady wont let me go outside"),
    ("kept_in_day_off", "ni en mis dias libres me dejan salir de la propiedad"),
    ("kept_in_day_off", "en el dia de descanso tampoco nos dejan salir pa ningun lado"),
    # A bag packed and hidden, ready to leave.
    ("ready_to_flee", "got a bag packed and hidden in the closet for when he is gone"),
    ("ready_to_flee", "my things are packed under my bed just in case"),
    ("ready_to_flee", "tengo una maleta empacada abajo de la cama por si acaso"),
    ("ready_to_flee", "ya prepare una mochila escondida en el ropero pa irme"),
    # Papers not handed over, or claimed as theirs.
    ("documents_held", "my employer wont hand over my passport"),
    ("documents_held", "the recruiter says our visas are his property"),
    ("documents_held", "mi jefe no me presta mi identificacion"),
    ("documents_held", "el contratista dice que los pasaportes son de la empresa"),
    # Someone who answers for them at the doctor or asks what they said.
    ("spoken_for", "he never lets me see the doctor alone"),
    ("spoken_for", "my boyfriend asks me what i told the nurse every single time"),
    ("spoken_for", "el novio siempre responde por mi en las consultas"),
    ("spoken_for", "mi esposo quiere saber q le dije a la doctora, todo"),
    # A place or a person they cannot go back to.
    ("cannot_go_back", "i can not go back to his place, please where can i sleep"),
    ("cannot_go_back", "i wont ever go back to that house"),
    ("cannot_go_back", "no puedo regresar a esa casa, tengo miedo"),
    ("cannot_go_back", "ya no puedo regresar con el, donde me puedo quedar"),
    # A veiled threat for reporting.
    ("threatened", "my boss told me if i report him to watch my back"),
    ("threatened", "el mayordomo dijo que si lo denuncio que me cuide"),
    # Afraid for one's life, hedged: not knowing if one will be alive, "tonight is the night".
    ("afraid_for_life", "some nights i think this is the night he finally does it"),
    ("afraid_for_life", "no se si voy a seguir viva para la proxima cita"),
    # Hit, in the subjunctive of a question ("is it normal that he hits us").
    ("hurt", "es normal q la patrona nos pegue cuando algo sale mal?"),
    # A shelter for women.
    ("shelter_for_women", "is there a shelter for women near here"),
    ("shelter_for_women", "conocen algun albergue para mujeres por aqui"),
    # The clinic hidden on a phone someone checks.
    ("hidden_contact", "can u save my number under another name he checks my phone"),
    ("hidden_contact", "me pueden escribir con otro nombre, el revisa mi cel"),
    # Forced sex said around it: not choosing with whom; the man of the house in her room again.
    ("forced_sex", "need to get checked for everything. i dont get to pick who"),
    ("forced_sex", "necesito checarme de todo, la verdad yo no escojo con quien"),
    ("forced_sex", "el hijo de la patrona se volvio a meter a mi cuarto anoche"),
    # A chance to leave while he is away.
    ("leaving_plan", "hes gone all weekend, this is my chance to get out, can someone help"),
    ("leaving_plan", "el viernes se va de viaje, es mi oportunidad pa escaparme con los niños"),
    # Changed one's number or moved, and still found.
    ("followed", "i moved across town and he still finds me"),
    ("followed", "me mude de casa y aun asi llega a mi trabajo a esperarme"),
    # Pay kept by whoever placed or hired them; paid in food or a bed, never money.
    ("pay_kept", "quick q about w2s. the staffing agency keeps my whole pay for housing"),
    ("pay_kept", "do you take walk ins? on the dairy they pay us with food and a cot, no money"),
    ("pay_kept", "a que hora abren? la agencia de cuidado se queda con todo mi cheque"),
    ("pay_kept", "tienen clases de ingles? en el rancho nos pagan con comida y donde dormir"),
    # A partner or a boss hurt them, the act said plainly (not vetoed by the model, so a
    # medical question around it no longer silences it: see below).
    ("hurt_by_partner", "mi marido me piso la mano con la bota"),
    ("hurt_by_partner", "my wife kicked me in the ribs and now it hurts to breathe"),
    # Thinking of running away, with nowhere to go.
    ("thinking_of_running", "thinking about running. no idea where i would even go"),
    ("thinking_of_running", "pienso en huir. no se pa donde"),
    # Hurt or ill, and not let go for care.
    ("kept_from_care", "i have a deep cut and my partner wont let me go get stitches"),
    ("kept_from_care", "my wrist looks broken and he will not let me go to the hospital"),
    ("kept_from_care", "tengo fiebre alta y mi esposo no me deja ir a la clinica"),
    # Papers held by the family-in-law or a partner's family.
    ("papers_with_family", "can i get a new ss card? my mother in law has my passport and my id"),
    ("papers_with_family", "his mom keeps my passport and my birth certificate in her closet"),
    ("papers_with_family", "mi suegro tiene mi pasaporte guardado y no me lo da"),
    # The clinic asked to pass itself off as someone else if another person answers.
    ("hidden_contact", "if he answers, say its the dentist office please"),
    ("hidden_contact", "si contesta el, digan que es de la escuela"),
    # Voice notes or texts saying they know where one or one's child is.
    (
        "threatened_by_message",
        "keep getting voice notes from his cousins saying they know where my son plays",
    ),
    (
        "threatened_by_message",
        "me llegan audios de un numero que no conozco diciendo que saben donde trabajo",
    ),
]


# Ordinary messages in the same words stay silent.
@pytest.mark.parametrize(
    "text",
    [
        "my day off is thursday can i book then",
        # pay handed out on a day, paid in pizza for a favour
        "the agency keeps my check stubs till friday",
        "we got paid in pizza for volunteering lol",
        "la agencia se queda con mi cheque hasta el viernes por el deposito directo",
        "en la fiesta nos pagan con pizza jaja",
        # a foot stepped on while dancing; words twisted
        "my husband stepped on my foot dancing lol",
        "mi esposo me piso el pie bailando jaja",
        "my husband twisted my words at the party lol",
        # running for sport
        "thinking about running a 5k, where to sign up?",
        "pienso en correr en el parque, a donde me recomiendan ir?",
        # care limited by insurance or a work schedule
        "my insurance will not let me go to the er at that hospital",
        "mi trabajo no me deja ir al doctor en la mañana, tienen citas en la tarde?",
        # papers a relative helps with
        "my mother in law has my passport photos to mail with the renewal",
        "mi suegra tiene copia de mi acta para la cita",
        "when you call about my appointment say its the clinic, thats fine",
        "my mom sends me voice notes all day, she doesnt know where the clinic is lol",
        "la maestra manda audios al grupo, saben donde es la junta?",
        # a price, a bill owed to a company, traffic, a sitter, an office asking for an id,
        # when pay comes
        "i cant pay 90 for the brand name, is there a cheaper one",
        "le debo 200 a la compañia de luz y me van a cortar",
        "we sat on the highway for two hours, trapped behind a crash",
        "me da miedo dejar a mi bebe con la niñera nueva",
        "la señora de la oficina sigue pidiendo mi identificacion para la cita",
        "nos pagan cada 15 dias, es normal?",
        "can i leave early on my day off for the appointment",
        "me dieron el dia libre, tienen citas el jueves?",
        "en mi dia libre no puedo salir temprano porque cuido a mi mama",
        "my hospital bag is packed in case the baby comes",
        "tengo la maleta hecha para el viaje del viernes",
        "can the clinic hand over my records to the school",
        "el consulado dice que entrega los pasaportes el lunes",
        "my son answers for me because i dont speak english",
        "mi hija contesta por mi porque no hablo ingles",
        "i cant go back to that house, the mold made my kids sick",
        "no puedo regresar a esa casa porque se inundo, hay ayuda con renta?",
        "no puedo volver con el doctor hasta el otro mes",
        "i volunteer at a womens shelter, do you take referrals",
        "soy voluntaria en un albergue para mujeres, reciben referencias?",
        "can i book my appointment under a different name, my legal name changed",
        "me pegue en la rodilla con la mesa",
        "si voy a la cita quien me cuida a los niños",
        "le mande foto de mi pasaporte a la recepcion, sirve?",
        "en los resultados sale algo alto, que significa",
        "hay descuento si pago en efectivo?",
        "la factura dice que debo 80 pero el seguro paga",
        "me puedo meter al seguro de mi esposo?",
        "do i get to choose who my doctor is",
        "no escojo con quien me toca la cita, verdad?",
        "mi hija se metio otra vez a mi cuarto por las pesadillas",
        "my kids follow me on insta, thats how i found you",
        "the doctor wont let me go back to work yet, can i get a note",
        "i paid the bill but the portal still says i owe",
        "we got evicted and im scared we end up on the street",
        "a que hora debo llamar para los resultados",
        "la crema que me dieron no me hace nada",
        "mi hija me vigila que tome la medicina de la presion",
        "la rodilla me esta matando desde ayer",
        "me dan ataques de panico en el trabajo, tienen consejeria?",
        "is friday my only chance to get the flu shot",
        "es mi unica oportunidad de ir a la cita, me ayudan a cambiarla?",
        "i changed my number but the pharmacy still texts the old one",
        "hay una venta de ropa el sabado, es mi chance de comprar barato",
        "me mudo el sabado, donde actualizo mi direccion?",
        "cambie de numero, como le hago para actualizarlo en mi expediente?",
    ],
)
def test_the_families_ordinary_senses_stay_silent(danger: Danger, text: str) -> None:
    assert not danger.found_in(text), text


# The same words in danger are still heard: the ordinary senses are set phrases.
STILL_HEARD = [
    "le debo al raitero y dice que cada semana debo mas",
    "el patron nos vigila todo el dia con camaras",
    "mi marido me pego en la espalda con el cinto",
    "me sigue hasta el trabajo en su troca",
    "me esta sangrando mucho la cabeza, no para",
]


# A car hit, a notice stuck ("pegado") on the door: the rules leave them alone; the model alone
# still reads "le pegó" and "le pegaron" as danger (KNOWN-GAPS).
@pytest.mark.parametrize(
    "text",
    [
        "alguien le pego a mi carro en el parqueo y se fue",
        "le pegaron un aviso de desalojo a mi puerta",
    ],
)
def test_a_thing_hit_or_stuck_on_is_not_a_person_hit(danger: Danger, text: str) -> None:
    assert "hurt" not in danger.hear(text).found


# The rules themselves stay silent on an ordinary sense they once heard: a price, a bill owed to
# a company, traffic, leaving children with a sitter, an office asking for an id, pay slips.
@pytest.mark.parametrize(
    "text",
    [
        "i cant pay 90 for the brand name, is there a cheaper one",
        "i owe the cable company 75 and they shut off the internet",
        "we sat on the highway for two hours, trapped behind a crash",
        "me da miedo dejar a mi bebe con la niñera nueva",
        "the lab needs my id again for the urine sample, they keep asking",
        "the agency keeps my check stubs till friday",
        "el restaurante paga cada 2 semanas, tiene que ser asi?",
    ],
)
def test_an_ordinary_sense_keeps_the_rules_silent(danger: Danger, text: str) -> None:
    assert not danger.hear(text).found, text


# --- Families from heldout11's misses, in other words than the set's ------------------------------

# Each is heard by the concept named (the rules alone) and by the line as a whole.
HELDOUT11_FAMILIES = [
    # Charged for everything by the one they work for, so the pay never comes.
    ("charged_for_living", "the crew leader charges us for rent, rides, food and tools"),
    ("charged_for_living", "they charge us for the bed, the food and the gloves, we end up owing"),
    ("charged_for_living", "our foreman takes out for the trailer and the van, never get paid"),
    ("charged_for_living", "el mayordomo nos cobra el raite, la comida y las herramientas"),
    ("charged_for_living", "el contratista nos descuenta la traila y el lonche, nunca vemos paga"),
    # Charged to sleep on a floor.
    ("charged_for_living", "they charge us 100 a week to sleep on the floor of the garage"),
    ("charged_for_living", "me cobran 150 a la semana por dormir en el piso"),
    # Rent paid with sex, or a landlord who wants sex for it.
    ("sex_for_rent", "the landlord wants me to sleep with him instead of paying rent"),
    ("sex_for_rent", "the guy i rent from says i can stay if i have sex with him"),
    ("sex_for_rent", "el casero dice que si no me acuesto con el me saca"),
    ("sex_for_rent", "el dueño del cuarto me pide que le pague la renta con mi cuerpo"),
    # Seen or found, and running or hiding now.
    ("fleeing_now", "they saw me, im running to the gas station, pls help"),
    ("fleeing_now", "he found me, im hiding in the bathroom of the mcdonalds"),
    ("fleeing_now", "ya me vieron, voy corriendo pal parque"),
    ("fleeing_now", "me encontro, estoy escondida en la tienda"),
    # Asked to be reached another way, because someone reads their messages.
    ("reached_another_way", "can you email me the reminder instead, my husband reads all my texts"),
    ("reached_another_way", "pls dont text my appt, email it, my bf goes through my phone"),
    ("reached_another_way", "mandenme la cita por correo, mi esposo revisa todo mi cel"),
    ("reached_another_way", "no me manden mensaje porfa, mi marido lee todo"),
    # Hurt by a partner or a boss, told after a medical or practical question: the model's veto
    # does not silence it (model_veto = false).
    ("hurt_by_partner", "do you do xrays? my ankle is swollen, my boyfriend stomped on it"),
    ("hurt_by_partner", "do u take walk ins? my wrist is swollen, my husband twisted it"),
    ("hurt_by_partner", "i need a dentist bc my front tooth is loose, my boyfriend punched me"),
    ("hurt_by_partner", "tienen rayos x? tengo el tobillo hinchado, mi novio me lo piso"),
    ("hurt_by_partner", "necesito dentista, se me movio un diente porque mi esposo me pego"),
    ("hurt_by_partner", "atienden sin cita? creo q tengo la costilla rota, el capataz me pateo"),
    # Their own papers refused by whoever controls them: not vetoed either.
    ("papers_refused", "my boss wont give me my id back"),
    ("papers_refused", "my employer wont hand over my passport"),
    ("papers_refused", "mi jefe no me quiere dar mi identificacion"),
    ("papers_refused", "el patron no me regresa mi pasaporte desde q llegue"),
]


@pytest.mark.parametrize(
    "text",
    [
        "my landlord charges for water and gas separately is that normal",
        "my apartment charges for rent, parking and trash every month",
        "the daycare charges for food and diapers now",
        "my boss takes out for taxes and insurance",
        "el casero cobra la luz y el agua aparte",
        "nos cobran renta, luz y agua en el apartamento",
        "mi jefe me descuenta los taxes y el seguro",
        "after rent and food i have nothing left this month",
        "my landlord said if i dont pay rent by friday he will kick me out",
        "my roommate has sex every night so loud, can i break my lease",
        "el casero nos quiere subir la renta, hay ayuda?",
        "they saw me at the front desk, im running late for the xray",
        "my mom saw me running in the park lol",
        "ya me vio el doctor, voy corriendo a la farmacia antes q cierre",
        "me vio mi jefe llegar tarde, voy corriendo",
        "can you email me the results, my daughter reads my texts to me",
        "mandenme los resultados por correo, mi hija me lee los mensajes porque no veo bien",
        "my son twisted his ankle at soccer, do you do xrays",
        "my dog bit me, do i need a tetanus shot",
        "mi perro me mordio la mano, necesito vacuna?",
        "my husband hit my car backing out of the driveway lol",
        "my boyfriend gave me the flu, do you have appointments",
        "mi esposo me pego la gripa, tienen citas?",
        "my husband cut me off in traffic haha",
        "mi hijo se cayo del columpio y se pego en la cabeza",
        "my boss wont give me my id badge till monday",
        "mi jefe no me da mi gafete hasta el lunes",
        "el abogado no me regresa mi pasaporte hasta la cita",
    ],
)
def test_the_heldout11_families_ordinary_senses_stay_silent(danger: Danger, text: str) -> None:
    found = danger.hear(text).found
    new = {
        "charged_for_living",
        "sex_for_rent",
        "fleeing_now",
        "reached_another_way",
        "papers_refused",
    }
    assert not new.intersection(found) and "hurt_by_partner" not in found, (text, found)
    assert not danger.found_in(text), text


def test_a_concept_that_names_who_and_what_is_not_vetoed(danger: Danger) -> None:
    """The model reads "do you do xrays? ... my boyfriend stomped on it" as a medical question,
    far below its veto; the rules name who and what, and are heard."""
    text = "do you do xrays? my ankle is swollen, my boyfriend stomped on it"
    assert danger.model is not None and danger.model.probability(text) < danger.model.veto
    assert danger.found_in(text)
    unvetoed = {c.id for c in danger.concepts if not c.vetoed}
    assert {
        "hurt_by_partner",
        "sex_for_rent",
        "fleeing_now",
        "reached_another_way",
        "papers_refused",
        "hurt_told_as_accident",
        "shelter_for_women",
        "kept_from_care",
        "hurt_after_anger",
        "care_forbidden_at_work",
        "protection_forbidden",
        "sex_for_work",
        "charged_to_live_by_boss",
        "immigration_threat_at_work",
        "taken_now",
        "papers_locked_away",
        "check_taken",
        "not_alone_with_doctor",
        "not_responding",
        "drowning_someone_now",
    } <= unvetoed
    # A debt, appointments kept from one, a man who waits: the model may still veto them.
    assert not {"debt_books_hidden", "appointments_kept_from", "waited_for"} & unvetoed


def test_model_veto_must_be_true_or_false(tmp_path: Path) -> None:
    from hotline_bridge.engine.danger import problems_in

    text = DANGER_FILE.read_text(encoding="utf-8").replace(
        "model_veto = false", 'model_veto = "no"', 1
    )
    path = tmp_path / "danger.toml"
    path.write_text(text, encoding="utf-8")
    assert any("model_veto" in problem for problem in problems_in(path))


# --- Ordinary senses from heldout12's and heldout13's false alarms, in other words ------------

# Each once woke a rule: weather "threatened", "seguir" + gerund, a neighbour minding the house,
# paying what one owes, a client who owes for a job, a scam call, a renewal wanted soon, a first
# therapy visit, a ride that left, a theft reported, an eviction notice "pegado" on the door, a
# rented house sold, paying again to fix a name, quitting drugs or smoking, a child who hits
# other children. The rules and the line stay silent.
HELDOUT12_13_ORDINARY = [
    "news says theres a threat of hail tonight, will the clinic open tomorrow",
    "the weather says a threat of snow and storms friday, are you closing early?",
    "alguien sigue estacionandose en mi lugar y ya me tiene harto",
    "un vecino se sigue estacionando en mi espacio, a quien le hablo",
    "la vecina nos cuida la casa cuando nos vamos de vacaciones",
    "el vecino me vigila la casa mientras viajo, que lindo",
    "ya me depositaron, puedo pasar a pagar lo que debo de la visita?",
    "debo unos 200 de la consulta pasada, me dejan pagar en partes?",
    "quiero pagar lo que debo pero este mes no me alcanza, puedo hablar con alguien",
    "un cliente no me quiere pagar la remodelacion, como lo demando en reclamos menores",
    "a client owes me for painting his house, how do i file in small claims court",
    "got a scam call saying the irs would send the police to arrest me, where do i report it",
    "my card renewal was denied, need help redoing it asap",
    "im scared of my first counseling visit, what do they ask",
    "my ride left without me, can someone take me to my appointment",
    "el que me iba a dar raite me fallo, me pueden recoger",
    "someone broke into my car and the police gave me a report, what now with insurance",
    "se metieron a mi casa a robar y la policia hizo un reporte, que hago con la aseguranza",
    "the landlord pinned an eviction notice on our door",
    "vendieron la casa que rentamos, nos dan 60 dias para salir, donde busco",
    "el dueño vende la casa que rentamos y nos dieron 60 dias",
    "nos pusieron mal el nombre en la licencia, hay que pagar otra vez para corregirlo?",
    "my son is on pills and says he wants to get out of it, where do i take him",
    "mi hija anda en las drogas y quiere salirse, donde la llevo",
    "mi esposo quiere dejar de fumar, tienen parches?",
    "mi papa quiere dejar el cigarro, que me recomiendan",
    "the teacher says my son hits other kids at school, can he get evaluated",
    "la maestra dice que mi niña le pega a sus compañeros en la escuela",
    "mi hijo le pega a los otros niños en la guarderia, que hago",
]


# The same words in danger are still heard.
STILL_HEARD_NEAR_HELDOUT12_13 = [
    # the ordinary senses of heldout19 to heldout22 beside danger in the same clause
    "my boss took my passport and my credit card",
    "he keeps my passport as a guarantee until i pay",
    "they locked me in the bathroom",
    "a man keeps following my little sister home from school",
    "he tracks me on life360 and wont let me go anywhere",
    "the bouncer watches us so we cant leave the club",
    "he said ill pay for it if i tell anyone",
    "my bf hit me after we broke up",
    "no nos pagan las horas extras y nos amenazan",
    "me quitan para impuestos y no me dan nada de mi pago",
    "me chocaron a proposito, ayuda urgente",
    "i got pregnant because he wont let me use protection",
    "i want to leave with my baby while he sleeps",
    "he sends his brother to watch me and the kids",
    "el patron me amenazo en su oficina que me va a deportar",
    # heldout19's ordinary senses (a cat, shame, a car hit) beside danger
    "necesito escaparme de esta casa esta noche. tengo un gatito, lo puedo llevar al refugio?",
    "me da verguenza decirlo pero el patron dice que si hablo me mata",
    "chocaron el carro a proposito para asustarme y dice que me va a matar",
    "my ex keeps threatening me, will you guys be open tomorrow",
    "el patron amenaza con llamar a la migra si no trabajamos el domingo",
    "he threatened to call immigration on me if i report him",
    "alguien me sigue desde el trabajo hasta mi casa",
    "mi vecino me vigila todo el dia desde su ventana",
    "el patron no nos paga y dice que le debemos el viaje",
    "el jefe se queda con mi pago y me paga con comida",
    "mi marido me pego en la puerta de la casa",
    "el patron le pega a los trabajadores y a mi tambien",
    "i cant take it anymore, please come get me out of here now",
    "im scared he will kill me",
    "necesito ayuda urgente, me tienen encerrada",
    "me venden con otros hombres por dinero",
    "quiero salirme de aqui pero no me dejan",
]


# --- Families from heldout12's and heldout13's misses, in other words than the sets' --------------

# Each is heard by the concept named (the rules alone) and by the line as a whole, most after a
# medical or practical question, which the model reads as ordinary.
HELDOUT12_13_FAMILIES = [
    # An injury told with who got angry.
    (
        "hurt_after_anger",
        "do you see people without insurance? my nose is broken, my husband got drunk again",
    ),
    (
        "hurt_after_anger",
        "tienen citas hoy? tengo la costilla rota, mi esposo se puso bravo anoche",
    ),
    # Struck with a belt or its buckle.
    ("hurt_by_partner", "cuanto cuesta una consulta? mi novio me dio con el cinto en las piernas"),
    ("hurt_by_partner", "do u do stitches? my boyfriend hit me with his belt last night"),
    ("hurt_by_partner", "foreman smashed my hand in the door and said not to go to the er"),
    # Hurt at work, and told not to see a doctor.
    (
        "care_forbidden_at_work",
        "the crew leader told us not to go to the doctor after the fall, my hand is swollen",
    ),
    (
        "care_forbidden_at_work",
        "me corte en la planta y el mayordomo dijo que no fuera al hospital",
    ),
    ("care_forbidden_at_work", "me queme en la cocina y el patron dice nada de doctor o me corre"),
    # Not let to use protection.
    (
        "protection_forbidden",
        "do you test for stds? the boss at the bar wont let the girls use condoms",
    ),
    ("protection_forbidden", "hacen pruebas? el dueño del bar no nos deja usar condon"),
    # A boss who wants sex for hours, or sends away whoever will not.
    ("sex_for_work", "my supervisor wants sex or he cuts my shifts, is that legal"),
    ("sex_for_work", "el encargado quiere que me acueste con el por mas horas"),
    ("sex_for_work", "el capataz les pide favores a las muchachas y a la que no quiere la corre"),
    # A debt that grows, the books not shown.
    ("debt_books_hidden", "i owed him 800 and now he says its 3000, he wont show me the books"),
    ("debt_books_hidden", "le debiamos 1000 al contratista y ahora dice que son 5000"),
    ("debt_books_hidden", "el patron nunca nos enseña las cuentas, solo dice que debemos mas"),
    # Kept from seeing one's own appointments or mail.
    ("appointments_kept_from", "my guardian keeps my mail and wont let me see my appointments"),
    ("appointments_kept_from", "mi hermano tiene mis papeles y no me deja ver mis cartas"),
    # Charged by the boss to live in his trailer.
    ("charged_to_live_by_boss", "my boss charges me 400 a month to live in his trailer"),
    ("charged_to_live_by_boss", "el patron nos cobra 300 por dormir en su traila"),
    # A boss who would give one's address to immigration, or cancel one's visa.
    (
        "immigration_threat_at_work",
        "my manager says he will cancel my visa if i complain about the hours",
    ),
    (
        "immigration_threat_at_work",
        "my supervisor says if i miss again he will give my address to immigration",
    ),
    ("immigration_threat_at_work", "la patrona dice que si renuncio le pasa mi nombre a la migra"),
    # A man who waits at the same place every day.
    ("waited_for", "the same guy waits outside my job every afternoon, i dont know him"),
    ("waited_for", "un señor me espera afuera del trabajo todos los dias, es amigo de mi ex"),
    # Found after moving to another state.
    ("followed", "i moved to another state and he already found me"),
    ("followed", "me fui a otro estado y ya lo vi afuera de mi casa"),
]


# The same words in their ordinary senses: the rules stay silent.
HELDOUT12_13_FAMILIES_ORDINARY = [
    "my ribs are broken from football, my boyfriend got mad i didnt go to the er sooner lol",
    "my husband got mad at the referee, my nose is broken from the game",
    "mi esposo se enojo porque no fui antes al doctor, tengo la costilla rota de una caida",
    "my boss said not to go to the hospital cafeteria, its closed",
    "my boss said no doctor notes needed for one day off",
    "el jefe dijo que no fuera al doctor en horas de trabajo, que saque cita en la tarde",
    "at work they dont let us use ear protection, is that legal",
    "no me deja usar condon porque soy alergica al latex, que otra opcion hay",
    "my manager wants me to take more hours on weekends",
    "el jefe me pide favores como cubrir turnos y me da mas horas",
    "the bank wont show me how much i owe on the card",
    "i owed 500 on my phone bill and now its 700 with late fees",
    "debia 300 de luz y ahora son 500 con recargos",
    "la clinica no me enseña cuanto debo en el portal",
    "the portal wont let me see my appointments, can u help",
    "la aplicacion no me deja ver mis citas, se traba",
    "my boss charges for parking, is that allowed",
    "el jefe cobra por el estacionamiento de su terreno",
    "do i need to give my address to immigration if i move",
    "tengo que darle mi direccion a inmigracion si me mudo?",
    "my boss says my visa expires in may, how do i renew",
    "the same man sells tamales every morning by the school",
    "i moved to another state, can i keep my doctor here",
    "my brother found me a job after i moved to another state",
]


# --- Families from heldout16's and heldout17's misses, and ordinary senses from everyday28 ------

# Someone taken away now (not vetoed: who and what are said), someone hurt and not taken for
# care, someone following them now, and not going back to the one who hurts them.
HELDOUT16_17_FAMILIES = [
    ("taken_now", "two men took my son in a black truck 10 minutes ago"),
    ("taken_now", "somebody grabbed my sister and drove off"),
    ("taken_now", "se llevaron a mi niña en un carro gris hace rato"),
    ("taken_now", "unos hombres se lo llevaron a la fuerza"),
    ("hurt_not_taken_for_care", "she fell bad and her boss refuses to take her to the er"),
    ("hurt_not_taken_for_care", "a mi prima le pegaron y no la quieren llevar al doctor"),
    ("hurt_not_taken_for_care", "me duele el brazo y mi esposo no me quiere llevar al hospital"),
    ("followed_now", "that guy is still following me, im in the target"),
    ("followed_now", "un señor me anda siguiendo desde el metro"),
    ("followed_now", "estoy en la tienda y el carro q me viene siguiendo esta afuera"),
    ("not_back_to_him", "i dont want to go home with him tonight"),
    ("not_back_to_him", "no quiero regresar con mi marido"),
    # heldout18: papers locked away, a check cashed and nothing left, never alone with the
    # doctor, helping someone else get away, someone not moving or breathing, someone trying
    # to drown another (all but helping someone away are not vetoed).
    ("papers_locked_away", "my husband has all our papers locked in a lockbox"),
    ("papers_locked_away", "el patron tiene todos nuestros documentos bajo llave"),
    ("check_taken", "my nephew takes my disability check and leaves me with nothing"),
    ("check_taken", "mi hija cobra mi pension y me deja sin nada"),
    ("not_alone_with_doctor", "my boyfriend never lets me see the nurse alone"),
    ("not_alone_with_doctor", "mi esposo no me deja pasar sola al consultorio"),
    ("help_someone_out", "my cousin is stuck in that house, how can i get her out of there"),
    ("help_someone_out", "mi vecina esta encerrada con el, como la ayudo a irse"),
    ("not_responding", "he pushed my mom down the stairs and she is not breathing"),
    ("not_responding", "mi hermano se cayo del techo y no despierta"),
    ("drowning_someone_now", "her boyfriend is holding her under the water in the pool"),
    ("drowning_someone_now", "la esta ahogando en el rio, ayuda"),
    # heldout19: a debt that is always more, leaving while he sleeps, someone said to fall whom
    # the writer saw hurt, hurt again and again and not by accident (all but the debt are not
    # vetoed).
    ("debt_keeps_growing", "he says we still owe but every week the debt keeps going up"),
    ("debt_keeps_growing", "cada vez que pregunto cuanto le debo al patron es diferente"),
    ("leaving_while_asleep", "i wanna run while he sleeps tonight, where do i go"),
    ("leaving_while_asleep", "me quiero escapar esta noche cuando el se duerma"),
    ("hurt_seen_not_fallen", "my uncle says grandma fell again but i saw him shove her"),
    ("hurt_seen_not_fallen", "mi tio dice que mi abuelita se cayo pero yo vi como la empujo"),
    ("hurt_not_accident", "i keep getting bruises at home and they are not accidents"),
    ("hurt_not_accident", "me siguen saliendo moretones en la casa y no son accidentes"),
    # heldout20: a gate locked for the night, someone blocked who showed up, a message that
    # knows when a child leaves school, a boss who says no doctor or no pay, no choice about
    # protection, slipping out unseen (all but the gate and slipping out are not vetoed).
    ("gate_locked_at_night", "they lock the gate at night and we cant get out till morning"),
    (
        "gate_locked_at_night",
        "el encargado cierra la reja con candado toda la noche, no hay salida",
    ),
    ("showed_up_after_blocked", "i blocked him on everything and he showed up at my job today"),
    ("showed_up_after_blocked", "la bloquee de todo y se aparecio en mi trabajo"),
    ("knows_childs_schedule", "he texted me that he knows what time my son gets out of school"),
    ("knows_childs_schedule", "me escribio que sabe a que hora sale mi niño de la escuela"),
    ("care_forbidden_at_work", "my foreman says no doctor or no pay, my hand is cut bad"),
    ("protection_forbidden", "they never use protection and i have no choice"),
    ("protection_forbidden", "los clientes no usan condon y no me queda de otra"),
    ("leaving_plan", "me sali del rancho sin que se dieran cuenta, alguien me recoge?"),
    # heldout21: told to keep quiet or their children pay for it (not vetoed).
    ("silence_or_kids_pay", "they said keep quiet or my kids will pay"),
    ("silence_or_kids_pay", "me dijeron que no diga nada o mis hijos lo van a pagar"),
    # heldout22: someone sent to watch them, put in a car's trunk (neither vetoed).
    ("sent_to_watch", "my boyfriend sends his cousin to my job to check on me"),
    ("sent_to_watch", "mi esposo manda a su primo a la tienda a ver con quien hablo"),
    ("in_the_trunk", "they put me in the trunk, i dont know where we are going"),
    ("in_the_trunk", "estoy en la cajuela de un carro, ayuda"),
]

# The same words in their ordinary senses, and everyday talk close to danger: a pet that follows,
# a double shift, an escape room, a sister who owes money, a boss who watches the clock but pays.
HELDOUT16_17_ORDINARY = [
    "my mom took my son to school this morning",
    "grandma took my kids to the park for ice cream",
    "se llevaron a mi hijo en ambulancia al hospital, a que piso voy",
    "my husband cant take me to the hospital, he is working, do you have rides?",
    "mi esposo no me puede llevar al doctor porque trabaja",
    "no me quieren llevar al cine jaja",
    "my ex is following me on instagram again lol",
    "i dont want to go back with him to the dentist lol",
    "no quiero volver con el doctor de antes, quiero otro",
    "el patron me puso doble turno el sabado, puedo cambiar mi cita?",
    "my brother owes me 50 bucks and forgot again",
    "mi hermana me debe 100 desde diciembre",
    "el jefe vigila mucho la hora de entrada pero paga completo",
    "the manager watches the time clock but pays us right every friday",
    "me voy a morir de aburrimiento en la fila",
    "hace un calor q mata, como se si es golpe de calor",
    "got hit by a pitch at little league, is my wrist broken",
    # heldout18: a baby that moves less, a check the bank holds, drowning in homework
    "my baby is not moving as much, 32 weeks, should i come in",
    "mi bebe no se mueve en la panza desde ayer",
    "my son is not responding to the antibiotics",
    "me estoy ahogando en deudas jaja",
    "lol im drowning in homework",
    "como lo ayudo a salir del carro si tiene la pierna rota",
    "my husband is gonna kill me i dented the car",
    "se rompio el candado del buzon",
    # everyday29: double pay, a broken screen
    "el patron nos pago doble por el dia feriado",
    "se me quebro la pantalla del cel, llamen a mi esposo",
    # heldout19: a cat that got out, a phone menu, dying of embarrassment, a parked car hit
    "se me salio el gatito, hay refugio de animales cerca?",
    "how do i get out of this phone menu, i want a person",
    "ay me voy a morir de verguenza, me equivoque de numero",
    "me chocaron la troca estacionada en el walmart, a quien llamo del seguro",
    "i leave early while the baby sleeps to get the bus",
    # heldout20: a school's message, a teacher's, spam, a doctor's note, a refund, a parrot,
    # overtime paid, a lost key, a hurricane
    "the school sent a message that knows when my son gets out, early release",
    "la maestra me mando mensaje que sabe a que hora sale mi hija, todo bien",
    "i blocked the spam number and it showed up at my email again",
    "my boss says no doctor note needed for one sick day",
    "did my taxes, got refunded 400, do i owe anything else",
    "my parrot learned to say help me lol",
    "el patron nos paga las horas extras bien",
    "se me perdio la llave del cuarto, cobran por otra?",
    "alerta de huracan, hay que salir del motel?",
    "no usamos proteccion porque queremos otro bebe, ni modo",
    # heldout21: young people's talk (a crush, an exam, a game, a drill, screen time)
    "my crush followed me back omg",
    "scared for my exam tmrw lol",
    "im gonna kill him next round, he trash talks in chat",
    "hoy hubo simulacro de encierro en la escuela",
    "mi mama me vigila el tiempo de pantalla",
    # heldout22: groceries in the trunk, a brother sent to check on the sick, a shelter's rules
    "put the groceries in the trunk and the dog in the back lol",
    "my mom sends my brother to check on me while im sick",
    "the shelter doors lock at 9, can i sign up again tomorrow",
    "mi cita de hormonas es el 14",
]


# Everyday talk the rules now leave alone, but the model still reads as danger: a pet that
# follows, an escape room, papers kept by a relative who was asked to (README, "Hearing
# danger": what it cannot tell apart).
RULES_SILENT_MODEL_NOT = [
    "el perrito me viene siguiendo desde la tienda",
    "we finally beat the escape room, took us an hour",
    "mi chihuahua me sigue a todos lados",
    # everyday29: papers a relative keeps because they were asked to
    "my aunt keeps my passport in her safe, i asked her to",
    "mi hermano guarda las actas de todos, asi lo decidimos",
    # a boss who rents his trailer to his son: the model reads it as danger since heldout21
    # was learnt (0.61)
    "mi patron le renta su traila a su hijo",
]


@pytest.mark.parametrize("text", RULES_SILENT_MODEL_NOT)
def test_everyday_talk_close_to_danger_keeps_the_rules_silent(danger: Danger, text: str) -> None:
    assert not danger.hear(text).found, (text, danger.hear(text).found)


def test_a_question_about_being_reported_is_not_a_boss_threat(danger: Danger) -> None:
    # dev5 labels it ordinary: a person asking whether the clinic would report them.
    text = "me van a reportar a inmigracion si voy a la clinica?"
    assert "immigration_threat_at_work" not in danger.hear(text).found
    assert not danger.found_in(text)


# --- Every family and ordinary sense above, tested alike -------------------------------------


@pytest.mark.parametrize(
    ("concept", "text"),
    [*FAMILIES, *HELDOUT11_FAMILIES, *HELDOUT12_13_FAMILIES, *HELDOUT16_17_FAMILIES],
)
def test_each_family_is_heard_by_its_concept_and_the_line(
    danger: Danger, concept: str, text: str
) -> None:
    assert concept in danger.hear(text).found, (text, danger.hear(text).found)
    assert danger.found_in(text), text


@pytest.mark.parametrize("text", [*STILL_HEARD, *STILL_HEARD_NEAR_HELDOUT12_13])
def test_danger_in_the_words_of_an_ordinary_sense_is_still_heard(danger: Danger, text: str) -> None:
    assert danger.hear(text), text
    assert danger.found_in(text), text


@pytest.mark.parametrize(
    "text", [*HELDOUT12_13_ORDINARY, *HELDOUT12_13_FAMILIES_ORDINARY, *HELDOUT16_17_ORDINARY]
)
def test_an_ordinary_sense_keeps_the_rules_and_the_line_silent(danger: Danger, text: str) -> None:
    assert not danger.hear(text).found, (text, danger.hear(text).found)
    assert not danger.found_in(text), text
