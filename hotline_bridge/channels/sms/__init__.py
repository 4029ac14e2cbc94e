"""The SMS line: Twilio's Messaging webhook, its replies, its cookie and its simulator."""
