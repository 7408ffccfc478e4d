"""Identity keys one value at a time (pure Python): phones, surnames, addresses, links.

A customer is a set of identities (see :mod:`ordertags.customers.identity`, which computes the
same keys for whole columns at once; a property test checks that both agree):

- an email key (:func:`ordertags.base.emails.normalize_email`); marketplace relay addresses
  (Amazon's ``@marketplace.amazon.*``, eBay's ``@members.ebay.*``) are keys too, for a
  buyer on that marketplace, but never a marketing address;
- a phone number in E.164 (``+447700900123``), parsed with ``phonenumbers`` in a default
  region for numbers written without a country code;
- a phone with the surname (``+447700900123 doe``): strong evidence, unlike the phone
  alone, which a household or an office shares;
- an address key (``addr:EH22PR 12``): the postcode and the house number (or, with no
  number, the first address line), normalised.

This module imports nothing heavy (``phonenumbers`` only when a phone is parsed), so
``ordertags link`` stays quick.
"""

from __future__ import annotations

import re
import unicodedata

from ordertags.base.emails import fold_case, looks_like_email, normalize_email
from ordertags.errors import UsageError

#: Identity kinds, as stored in the history; up to PHONE_NAME they are strong (they
#: merge customers). BUYER is a platform's buyer id where it gives no email (``ebay:jdoe``).
EMAIL, RELAY, BUYER, PHONE_NAME, PHONE, ADDRESS = 1, 2, 3, 4, 5, 6
KIND_NAMES = {
    EMAIL: "email",
    RELAY: "relay email",
    BUYER: "buyer id",
    PHONE_NAME: "phone+name",
    PHONE: "phone",
    ADDRESS: "address",
}


#: Marketplace relay addresses: a buyer on Amazon or eBay, never a marketing address.
RELAY_PATTERN = r"@(marketplace\.amazon\.|members\.ebay\.)"
_RELAY = re.compile(RELAY_PATTERN)

DEFAULT_REGION = "GB"
ADDRESS_PREFIX = "addr:"
#: Characters people put between the digits of a phone number.
PHONE_SEPARATORS = r"[\s().\-/]"
_SEPARATORS = re.compile(PHONE_SEPARATORS)
_HOUSE = re.compile(r"(?:^|[^0-9A-Za-z])([0-9]+[A-Za-z]?)(?:$|[^0-9A-Za-z])")


def is_relay(email_key: str) -> bool:
    """Is this (normalised) email a marketplace relay address?

    >>> is_relay("x1y2@marketplace.amazon.co.uk"), is_relay("jane@example.com")
    (True, False)
    """
    return bool(_RELAY.search(email_key))


#: Country names exports write, as region codes (two-letter codes are read as they are).
COUNTRY_NAMES = {
    "united kingdom": "GB",
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "united states": "US",
    "united states of america": "US",
    "usa": "US",
    "canada": "CA",
    "australia": "AU",
    "new zealand": "NZ",
    "ireland": "IE",
    "germany": "DE",
    "deutschland": "DE",
    "france": "FR",
    "spain": "ES",
    "españa": "ES",
    "italy": "IT",
    "italia": "IT",
    "netherlands": "NL",
    "belgium": "BE",
    "austria": "AT",
    "österreich": "AT",
    "switzerland": "CH",
    "schweiz": "CH",
    "sweden": "SE",
    "poland": "PL",
    "japan": "JP",
}


def country_region(country: str) -> str | None:
    """The region code of a country as an export writes it (``US``, ``United States``,
    ``uk``), None where it is not known.

    >>> country_region("United States"), country_region("de"), country_region("Narnia")
    ('US', 'DE', None)
    """
    import phonenumbers

    text = " ".join(country.strip().lower().split())
    if not text:
        return None
    code = COUNTRY_NAMES.get(text) or (text.upper() if len(text) == 2 else None)
    if code == "UK":
        code = "GB"
    if code and phonenumbers.country_code_for_region(code):
        return code
    return None


def check_region(region: str | None) -> str:
    """A region code phonenumbers knows (``GB``, ``US``, ``DE``...), upper-cased."""
    import phonenumbers

    code = (region or DEFAULT_REGION).strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise UsageError(
            f'"{region}" is not a region code phonenumbers knows.',
            hint="Give a two-letter country code such as GB, US, DE or FR.",
        )
    return code


def normalize_phone(text: str | None, region: str = DEFAULT_REGION) -> str | None:
    """A phone number in E.164, or None when it is blank or cannot be a number.

    Numbers without a country code are read as numbers of ``region``.

    >>> normalize_phone("07700 900123"), normalize_phone("+44 (0)7700-900123")
    ('+447700900123', '+447700900123')
    >>> normalize_phone("n/a") is None
    True
    """
    import phonenumbers

    if text is None or not text.strip():
        return None
    try:
        number = phonenumbers.parse(text.strip(), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    result: str = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return result


def fold_name(text: str) -> str:
    """Lower-cased letters only, accents dropped: ``"O'Brien-Müller"`` -> ``obrienmuller``."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return "".join(c for c in fold_case(kept) if unicodedata.category(c).startswith("L"))


def surname_of(name: str | None) -> str | None:
    """The surname of a full name: before the comma in ``"Doe, Jane"``, else the last word.

    >>> surname_of("Jane Doe"), surname_of("Doe, Jane"), surname_of("Zoë  Müller ")
    ('doe', 'doe', 'muller')
    """
    if name is None:
        return None
    text = name.strip()
    part = text.split(",", 1)[0] if "," in text else (text.split()[-1] if text.split() else "")
    folded = fold_name(part)
    return folded or None


def address_key(postcode: str | None, line1: str | None) -> str | None:
    """The address identity: postcode (upper-cased, letters and digits only) and the
    first house number of the first address line (or, with no number in it, the line
    itself, lower-cased, letters and digits only). None without a postcode.

    >>> address_key("eh2 2pr", "12 Rose Street"), address_key("EH22PR", "Flat 12, Rose St")
    ('addr:EH22PR 12', 'addr:EH22PR 12')
    >>> address_key("EH2 2PR", "Rose Cottage")
    'addr:EH22PR rosecottage'
    """
    code = "".join(c for c in (postcode or "").upper() if _alnum(c))
    if not code:
        return None
    line = line1 or ""
    match = _HOUSE.search(line)
    house = match.group(1).lower() if match else "".join(c for c in fold_case(line) if _alnum(c))
    return f"{ADDRESS_PREFIX}{code} {house}" if house else None


def _alnum(c: str) -> bool:
    cat = unicodedata.category(c)
    return cat.startswith("L") or cat == "Nd"


#: A marketplace buyer id as people write it: ``ebay:quinn_belfast``, ``amazon:A1B2C3``.
_BUYER_ID = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_-]*)\s*:\s*(\S.*?)\s*$", re.DOTALL)


def buyer_key(text: str) -> str | None:
    """The key of a marketplace buyer id written ``CHANNEL:ID`` (lower-cased, as the
    runs key buyers), or None when the text is not one.

    >>> buyer_key(" eBay:Quinn_Belfast "), buyer_key("+44 7700 900123")
    ('ebay:quinn_belfast', None)
    """
    match = _BUYER_ID.match(text)
    if match is None or "@" in text:
        return None
    return f"{fold_case(match.group(1))}:{fold_case(match.group(2))}"


def identity_of(
    text: str, region: str = DEFAULT_REGION, *, valid_phone: bool = False
) -> tuple[int, str]:
    """The kind and key of an identity a person typed (``ordertags tag``, ``link``,
    ``customer``): an email address, a phone number in any common spelling, or a
    marketplace buyer id ``CHANNEL:ID``. With ``valid_phone``, a phone number must be
    a valid number (:func:`check_phone`), not only one whose length is possible.

    >>> identity_of(" Jane.Doe+x@gmail.com "), identity_of("07700 900123")
    ((1, 'janedoe@gmail.com'), (5, '+447700900123'))
    >>> identity_of("ebay:Quinn_Belfast")
    (3, 'ebay:quinn_belfast')
    """
    value = text.strip()
    buyer = buyer_key(value)
    if buyer is not None:
        return BUYER, buyer
    if "@" in value:
        key = normalize_email(value)
        if key is None or not looks_like_email(value):
            raise UsageError(
                f'"{text}" is not an email address.',
                hint="Give an email (jane@example.com), a phone number or a buyer id (ebay:NAME).",
            )
        return (RELAY if is_relay(key) else EMAIL), key
    phone = normalize_phone(value, region)
    if phone is None and looks_like_phone(value):
        check_phone(value, region)  # digits no phone can have: say what is wrong with them
    if phone is None:
        raise UsageError(
            f'"{text}" is not an email address, a phone number or a buyer id.',
            hint=f"Give an email (jane@example.com), a phone number (+447400123456; "
            f"numbers without a country code are read as {region} numbers) or a "
            "marketplace buyer id (ebay:NAME, amazon:ID, etsy:ID).",
        )
    if valid_phone:
        check_phone(value, region)
    return PHONE, phone


def check_phone(text: str, region: str = DEFAULT_REGION) -> None:
    """Refuse a phone number a person typed that no phone can have: too short or too
    long for its country, or in none of its numbering ranges (phonenumbers' metadata;
    the data's phones are only required to have a possible length). Numbers without a
    country code are read as numbers of ``region``.

    >>> check_phone("07123 000999")
    >>> check_phone("0770090")
    Traceback (most recent call last):
    ...
    ordertags.errors.UsageError: "0770090" is not a valid phone number: too short for a GB \
number. Write it in full as dialled within GB, e.g. 07400 123456, or with its country \
code, e.g. +44 7400 123456.
    """
    import phonenumbers
    from phonenumbers import PhoneNumberType, ValidationResult

    problem = phonenumbers.NumberParseException
    try:
        number = phonenumbers.parse(text.strip(), region)
    except problem as exc:
        number, failed = None, exc.error_type
    if number is not None and phonenumbers.is_valid_number(number):
        return
    home = region
    if number is None:
        why = {
            problem.INVALID_COUNTRY_CODE: "no country has that calling code",
            problem.TOO_SHORT_AFTER_IDD: "too short",
            problem.TOO_SHORT_NSN: "too short",
            problem.TOO_LONG: "too long",
        }.get(failed, "not a phone number")
    else:
        code = int(number.country_code or 0)
        country = phonenumbers.region_code_for_country_code(code)
        home = country if country in phonenumbers.SUPPORTED_REGIONS else region
        place = f"a {home}" if home == country else f"a +{code}"
        reason = phonenumbers.is_possible_number_with_reason(number)
        if reason == ValidationResult.IS_POSSIBLE:
            # A length some number of the country has, but not one of its kind (0770090:
            # seven digits, as a GB landline may have; a GB mobile has eleven).
            kinds = {
                phonenumbers.is_possible_number_for_type_with_reason(number, kind)
                for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE)
            }
            reason = next(
                (
                    r
                    for r in (ValidationResult.TOO_SHORT, ValidationResult.TOO_LONG)
                    if kinds <= {r, ValidationResult.IS_POSSIBLE_LOCAL_ONLY}
                ),
                reason,
            )
        why = {
            ValidationResult.TOO_SHORT: f"too short for {place} number",
            ValidationResult.IS_POSSIBLE_LOCAL_ONLY: f"too short for {place} number (the area "
            "code is missing)",
            ValidationResult.TOO_LONG: f"too long for {place} number",
            ValidationResult.INVALID_LENGTH: f"the wrong number of digits for {place} number",
            ValidationResult.INVALID_COUNTRY_CODE: f"+{code} is no country's calling code",
        }.get(reason, f"no {home} number has these digits")
    example = phonenumbers.example_number_for_type(
        home, PhoneNumberType.MOBILE
    ) or phonenumbers.example_number(home)
    hint = "Write it in full, with its country code (+44 7400 123456)."
    if example is not None:
        national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
        full = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        hint = (
            f"Write it in full as dialled within {home}, e.g. {national}, or with its "
            f"country code, e.g. {full}."
        )
    raise UsageError(f'"{text.strip()}" is not a valid phone number: {why}.', hint=hint)


def looks_like_phone(text: str) -> bool:
    """A light check, without phonenumbers: digits with the usual separators (at least
    six digits), an optional leading ``+``."""
    value = text.strip()
    digits = sum(c.isdigit() for c in value)
    return digits >= 6 and not _SEPARATORS.sub("", value.lstrip("+")).strip("0123456789")


def looks_like_identity(text: str) -> bool:
    """A light check, without phonenumbers, for the tag book: an email, a buyer id
    (``ebay:NAME``) or a phone-like string (digits with the usual separators, at least
    six digits)."""
    value = text.strip()
    if buyer_key(value) is not None:
        return True
    if "@" in value:
        return looks_like_email(value)
    digits = sum(c.isdigit() for c in value)
    return digits >= 6 and not _SEPARATORS.sub("", value.lstrip("+")).strip("0123456789")
