"""What Twilio posts for an inbound SMS: every field of its web hook, not only the four the
text line reads, so that the benchmarks parse and sign as much of a form as production does
(the signature covers every field: twenty cost twice what six did)."""

from __future__ import annotations

TO = "+14085550000"  # the city's number in the benchmarks


class Form(dict[str, str]):
    """Twilio's fields, signed cheaply: the validator asks a form for a field's values by
    `getall` first, and reaches a plain dict's only after two AttributeErrors a field. The
    load generator shares the cores with the servers it measures, so it must stay light."""

    def getall(self, name: str) -> list[str]:
        return [self[name]]


def inbound_sms(sid: str, sender: str, body: str) -> Form:
    """Twilio's fields for one inbound SMS from `sender` (E.164), with MessageSid `sid`."""
    return Form({
        "ToCountry": "US", "ToState": "CA", "SmsMessageSid": sid, "NumMedia": "0",
        "ToCity": "SAN JOSE", "FromZip": "95112", "SmsSid": sid, "FromState": "CA",
        "SmsStatus": "received", "FromCity": "SAN JOSE", "Body": body, "FromCountry": "US",
        "To": TO, "MessagingServiceSid": "MG" + "2" * 32, "ToZip": "95113",
        "NumSegments": "1", "MessageSid": sid, "AccountSid": "AC" + "0" * 32, "From": sender,
        "ApiVersion": "2010-04-01",
    })
