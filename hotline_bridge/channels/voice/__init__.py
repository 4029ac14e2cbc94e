"""The voice line: Twilio's Voice webhooks rendered as TwiML, its simulator and path checks."""
