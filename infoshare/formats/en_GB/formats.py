"""Dates as DESIGN.md rule 9 shows them: 22 November 2026.

Django's own en_GB formats abbreviate the month ("22 Nov 2026") and, being
locale formats, win over the DATE_FORMAT setting; these take their place.
"""

DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%d %m %Y", "%Y-%m-%d"]
