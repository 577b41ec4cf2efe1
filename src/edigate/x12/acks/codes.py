"""What each code in a partner's acknowledgement means, as the X12 standard defines it.

Reading a partner's 997/999/TA1 needs the reverse of :class:`~edigate.x12.findings.ErrorCode`:
code -> meaning. That enum cannot serve, because several of our finding kinds share one X12
code (a transaction over our size limit is reported as AK5 ``5``, like any other transaction
with segment errors), and a partner's code means what the standard says, never what our
validator had in mind. So the tables are the X12 code lists themselves: TA105 (I18), AK905
(716), AK502/IK502 (718), AK304/IK304 (720) and AK403/IK403 (723), with the ``I`` codes the
999 (005010X231A1) adds.

Usage::

    meaning(Level.TRANSACTION, "5")   # 'one or more segments in error'
"""

from __future__ import annotations

from ..findings import Level

#: TA105 interchange note codes (element I18).
TA105 = {
    "000": "no error",
    "001": "interchange control number in header and trailer do not match",
    "002": "standard not supported",
    "003": "version of the controls not supported",
    "004": "invalid segment terminator",
    "005": "invalid interchange sender ID qualifier",
    "006": "invalid interchange sender ID",
    "007": "invalid interchange receiver ID qualifier",
    "008": "invalid interchange receiver ID",
    "009": "unknown interchange receiver ID",
    "010": "invalid authorization information qualifier",
    "011": "invalid authorization information value",
    "012": "invalid security information qualifier",
    "013": "invalid security information value",
    "014": "invalid interchange date",
    "015": "invalid interchange time",
    "016": "invalid interchange standards identifier",
    "017": "invalid interchange version ID",
    "018": "invalid interchange control number",
    "019": "invalid acknowledgment requested value",
    "020": "invalid test indicator value",
    "021": "invalid number of included groups",
    "022": "invalid control structure",
    "023": "improper (premature) end of file",
    "024": "invalid interchange content",
    "025": "duplicate interchange control number",
    "026": "invalid data element separator",
    "027": "invalid component element separator",
    "028": "invalid delivery date in deferred delivery request",
    "029": "invalid delivery time in deferred delivery request",
    "030": "invalid delivery time code in deferred delivery request",
    "031": "invalid grade of service code",
}

#: AK905..AK909 functional group syntax error codes (element 716).
AK905 = {
    "1": "functional group not supported",
    "2": "functional group version not supported",
    "3": "functional group trailer missing",
    "4": "group control number in header and trailer do not agree",
    "5": "number of included transaction sets does not match actual count",
    "6": "group control number violates syntax",
    "10": "authentication key name unknown",
    "11": "encryption key name unknown",
    "12": "requested service (authentication or encryption) not available",
    "13": "unknown security recipient",
    "14": "unknown security originator",
    "15": "syntax error in decrypted text",
    "16": "security not supported",
    "17": "incorrect message length (encryption only)",
    "18": "message authentication code failed",
    "19": "functional group control number not unique within interchange",
    "23": "S3E security end segment missing for S3S security start segment",
    "24": "S3S security start segment missing for S3E security end segment",
    "25": "S4E security end segment missing for S4S security start segment",
    "26": "S4S security start segment missing for S4E security end segment",
}

#: AK502..AK506 / IK502..IK506 transaction set syntax error codes (element 718).
AK502 = {
    "1": "transaction set not supported",
    "2": "transaction set trailer missing",
    "3": "transaction set control number in header and trailer do not match",
    "4": "number of included segments does not match actual count",
    "5": "one or more segments in error",
    "6": "missing or invalid transaction set identifier",
    "7": "missing or invalid transaction set control number",
    "8": "authentication key name unknown",
    "9": "encryption key name unknown",
    "10": "requested service (authentication or encryption) not available",
    "11": "unknown security recipient",
    "12": "incorrect message length (encryption only)",
    "13": "message authentication code failed",
    "15": "unknown security originator",
    "16": "syntax error in decrypted text",
    "17": "security not supported",
    "18": "transaction set not in functional group",
    "19": "invalid transaction set implementation convention reference",
    "23": "transaction set control number not unique within the functional group",
    "24": "S3E security end segment missing for S3S security start segment",
    "25": "S3S security start segment missing for S3E security end segment",
    "26": "S4E security end segment missing for S4S security start segment",
    "27": "S4S security start segment missing for S4E security end segment",
    "I5": "implementation: one or more segments in error",
    "I6": "implementation convention not supported",
}

#: AK304 / IK304 segment syntax error codes (element 720).
AK304 = {
    "1": "unrecognized segment ID",
    "2": "unexpected segment",
    "3": "mandatory segment missing",
    "4": "loop occurs over maximum times",
    "5": "segment exceeds maximum use",
    "6": "segment not in defined transaction set",
    "7": "segment not in proper sequence",
    "8": "segment has data element errors",
    "I4": "implementation: 'not used' segment present",
    "I6": "implementation: dependent segment missing",
    "I7": "implementation: loop occurs under minimum times",
    "I8": "implementation: segment below minimum use",
    "I9": "implementation: dependent 'not used' segment present",
}

#: AK403 / IK403 data element syntax error codes (element 723).
AK403 = {
    "1": "mandatory data element missing",
    "2": "conditional required data element missing",
    "3": "too many data elements",
    "4": "data element too short",
    "5": "data element too long",
    "6": "invalid character in data element",
    "7": "invalid code value",
    "8": "invalid date",
    "9": "invalid time",
    "10": "exclusion condition violated",
    "12": "too many repetitions",
    "13": "too many components",
    "I6": "code value not used in implementation",
    "I9": "implementation: dependent data element missing",
    "I10": "implementation: 'not used' data element present",
    "I11": "implementation: too few repetitions",
    "I12": "implementation: pattern match failure",
    "I13": "implementation: dependent 'not used' data element present",
}

#: The code list each ack level draws from.
CODE_LISTS: dict[Level, dict[str, str]] = {
    Level.INTERCHANGE: TA105,
    Level.GROUP: AK905,
    Level.TRANSACTION: AK502,
    Level.SEGMENT: AK304,
    Level.ELEMENT: AK403,
}


def meaning(level: Level, code: str) -> str | None:
    """The X12 meaning of ``code`` at ``level``, or None for a code the standard lacks.

    Leading zeros are not significant for the numeric lists (a partner's ``05`` is ``5``),
    except in TA105, whose codes are always three digits.
    """
    table = CODE_LISTS.get(level)
    if table is None:
        return None
    code = code.strip()
    found = table.get(code)
    if found is None and code.isdigit():
        found = table.get(f"{int(code):03d}" if level is Level.INTERCHANGE else str(int(code)))
    return found
