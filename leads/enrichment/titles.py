"""Pure job-title parsing: seniority and function from the free-text title a lead typed.

No Django, no ORM, no clock and no network. The title is first normalised (lower case, accents and
punctuation dropped, abbreviations spelled out: "Sr. V.P., Mktg" -> "senior vp marketing"), then two
ordered rule tables are tried top to bottom and the first match wins. Order is the whole trick: the
rules that would otherwise be swallowed by a broader one come first ("assistant vice president" before
"vice president", "sales operations" before "operations").

Decisions on ambiguous titles (the tests in ``leads/tests/test_titles.py`` pin each of them):

- Seniority follows the words of the title, not the size of the company behind it.
- C-level: any "Chief ... Officer" and its acronym, founders, owners, presidents (not vice presidents),
  board members and chairs, a firm's partners, and the top-of-unit titles "Managing Director" (the
  UK/EU company head, Geschaeftsfuehrer; in investment banks it is a rank, which we do not try to
  detect) and "General Manager" (runs a P&L).
- Function of the top executives: the function the title names wins ("President, Sales" -> sales);
  otherwise the acronym decides (CTO -> engineering, CIO/CISO -> it, CFO -> finance, COO ->
  operations, CMO -> marketing, CRO -> sales, CHRO -> hr), and CEO, founder, owner, president,
  managing director, general manager, chair and partner -> executive. CPO, CSO, CDO and CCO name
  several different jobs each, so alone they give function other.
- "Executive" alone is never a seniority: "Account Executive" and "Sales Executive" are individual
  sales, "Executive Assistant" is individual other, "Executive Vice President" is vp, and "Executive
  Director" is director with function executive.
- "Assistant to X", "Intern to X": only the part before "to" counts, so "Assistant to the VP" and
  "Executive Assistant to the CEO" are individual with function other.
- "Assistant/Associate Vice President" (AVP, a banking rank) is director; "Assistant/Associate
  Director" is director; "Assistant Manager" is manager; a title ending in "assistant" is
  individual whoever it names ("CEO Assistant" -> individual, function executive).
- "Head of ..." and "Chief of Staff" are director (chief of staff has function executive).
- "Lead"/"Team Lead"/"Tech Lead" and "Controller" are manager: they lead a team or a workstream even
  without formal reports. "Lead Generation ..." is not a lead.
- "Principal", "Staff" and "Senior" engineers are individual; "Product Owner" is individual.
- "Product Manager" is manager with function engineering: product sits in the R&D organisation we sell
  to. "Product Marketing" is marketing. Data and design (UX/UI) roles are engineering too.
- "Customer Success" and account management are sales (the revenue organisation); customer support
  and service are operations. Recruiting, talent and payroll are hr.
- "Student" only counts as student when the title is about being a student ("Student", "MBA Student",
  "PhD candidate", "Intern", "Apprentice"); "Student Success Manager" is a manager.
- A title that names several functions takes the first in this precedence: hr, finance, marketing,
  sales, it, engineering, operations, executive ("Sales & Marketing Director" -> marketing, "IT
  Recruiter" -> hr, "Revenue Accountant" -> finance).
- A title with no level word but with a function or a role noun ("Software Engineer", "Marketing") is
  individual; empty or unrecognised text is (unknown, other).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum


class Seniority(StrEnum):
    C_LEVEL = "c_level"
    VP = "vp"
    DIRECTOR = "director"
    MANAGER = "manager"
    INDIVIDUAL = "individual"
    STUDENT = "student"
    UNKNOWN = "unknown"


class JobFunction(StrEnum):
    MARKETING = "marketing"
    SALES = "sales"
    ENGINEERING = "engineering"
    IT = "it"
    FINANCE = "finance"
    HR = "hr"
    OPERATIONS = "operations"
    EXECUTIVE = "executive"
    OTHER = "other"


@dataclass(frozen=True)
class TitleInfo:
    seniority: Seniority
    function: JobFunction


UNKNOWN_TITLE = TitleInfo(seniority=Seniority.UNKNOWN, function=JobFunction.OTHER)


def _any(*patterns: str) -> re.Pattern[str]:
    """One compiled alternation of regex fragments (each carries its own word boundaries)."""
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns))


# --- Normalisation ------------------------------------------------------------------------------

# Single tokens spelled out after punctuation is gone. Multi-word values are fine.
_ABBREVIATIONS: dict[str, str] = {
    "mktg": "marketing",
    "mkt": "marketing",
    "mktng": "marketing",
    "mkting": "marketing",
    "comms": "communications",
    "sr": "senior",
    "snr": "senior",
    "jr": "junior",
    "jnr": "junior",
    "dir": "director",
    "mgr": "manager",
    "mngr": "manager",
    "mgmt": "management",
    "mgt": "management",
    "eng": "engineering",
    "engg": "engineering",
    "engr": "engineer",
    "ops": "operations",
    "exec": "executive",
    "asst": "assistant",
    "assoc": "associate",
    "coord": "coordinator",
    "rep": "representative",
    "reps": "representatives",
    "acct": "account",
    "acctg": "accounting",
    "fin": "finance",
    "biz": "business",
    "bizdev": "business development",
    "busdev": "business development",
    "bd": "business development",
    "bdr": "business development representative",
    "sdr": "sales development representative",
    "ae": "account executive",
    "pmm": "product marketing manager",
    "dev": "developer",
    "swe": "software engineer",
    "sde": "software development engineer",
    "sw": "software",
    "hrbp": "hr business partner",
    "ld": "learning and development",
    "rd": "research and development",
    "gm": "general manager",
    "md": "managing director",
    "pres": "president",
    "vicepresident": "vice president",
    "cust": "customer",
    "svc": "services",
    "svcs": "services",
    "intl": "international",
}

# Fixes on the spaced text before abbreviations are expanded ("V. P." became "v p").
_PHRASES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bs v p\b"), "svp"),
    (re.compile(r"\be v p\b"), "evp"),
    (re.compile(r"\bv p\b"), "vp"),
    (re.compile(r"\bco founder"), "cofounder"),
    (re.compile(r"\bdev ops\b"), "devops"),
    (re.compile(r"\bgo to market\b"), "gtm"),
    (re.compile(r"\be commerce\b"), "ecommerce"),
)

_DOTTED_ACRONYM = re.compile(r"\b[a-z](?:\.[a-z])+\.?(?![a-z])")  # "v.p." "c.e.o" -> "vp" "ceo"
_SHORT_AMPERSAND = re.compile(r"\b([a-z]{1,2}) ?& ?([a-z])\b")  # "r&d" "fp&a" "l & d" -> "rd" "fpa" "ld"
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# Whoever "X to the CEO" supports, the role is X: cut the rest so the CEO does not make them c-level.
_SUPPORT_CLAUSE = re.compile(r"\b(assistant|aide|secretary|intern) to\b.*$")


def normalise_title(title: str) -> str:
    """Lower-case, accent- and punctuation-free title with abbreviations spelled out.

    "Sr. V.P., Mktg & Ops" -> "senior vp marketing and operations".
    """
    text = unicodedata.normalize("NFKD", title or "").casefold()
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = _DOTTED_ACRONYM.sub(lambda match: match.group().replace(".", ""), text)
    text = _SHORT_AMPERSAND.sub(r"\1\2", text)
    text = " ".join(_NON_ALNUM.sub(" ", text.replace("&", " and ")).split())
    for pattern, replacement in _PHRASES:
        text = pattern.sub(replacement, text)
    text = " ".join(_ABBREVIATIONS.get(token, token) for token in text.split())
    return _SUPPORT_CLAUSE.sub(r"\1", text).strip()


# --- Shared vocabulary --------------------------------------------------------------------------

# C-suite acronyms and the function each one names; OTHER where the letters stand for several jobs.
_C_SUITE: dict[str, JobFunction] = {
    "ceo": JobFunction.EXECUTIVE,
    "cxo": JobFunction.EXECUTIVE,
    "cto": JobFunction.ENGINEERING,
    "caio": JobFunction.ENGINEERING,
    "cio": JobFunction.IT,
    "ciso": JobFunction.IT,
    "cfo": JobFunction.FINANCE,
    "coo": JobFunction.OPERATIONS,
    "cmo": JobFunction.MARKETING,
    "cgo": JobFunction.MARKETING,
    "cro": JobFunction.SALES,
    "chro": JobFunction.HR,
    "cpo": JobFunction.OTHER,  # product, people or procurement
    "cso": JobFunction.OTHER,  # security, strategy or sales
    "cdo": JobFunction.OTHER,  # data or digital
    "cco": JobFunction.OTHER,  # customer, commercial, compliance or communications
    "cao": JobFunction.OTHER,  # accounting or administrative
    "clo": JobFunction.OTHER,  # legal or learning
}

# Titles of whoever runs the whole company or unit: c-level, and function "executive" when no
# function is named.
_TOP_EXECUTIVE = (
    r"\bchief executive\b",
    r"\b(co)?founders?\b",
    r"(?<!product )(?<!process )\bowners?\b",
    r"(?<!vice )\bpresident\b",
    r"\bmanaging (director|partner)\b",
    r"\bgeneral manager\b",
    r"\bchair(man|woman|person)?\b",
    r"\bboard\b",
    r"\bc (level|suite)\b",
    r"\bproprietor\b",
    r"\bentrepreneur\b",
    # A firm's partner, not "HR Business Partner" or "Partner Manager".
    r"^partner( at\b|$)",
    r"\b(founding|equity|senior|general|name) partner$",
    r"\bdirect(eur|rice|or|ora) generale?\b",
    r"\bpdg\b",
    r"\bgeschaftsfuhrer(in)?\b",
)

# --- Seniority ----------------------------------------------------------------------------------

_SENIORITY_RULES: tuple[tuple[Seniority, re.Pattern[str]], ...] = (
    # Strong student words first, so "Marketing Intern" is not read as an individual.
    (
        Seniority.STUDENT,
        _any(
            r"\binterns?\b",
            r"\binternship\b",
            r"\bapprentice(ship)?\b",
            r"\b(werkstudent|praktikant|stagiaire)\w*",
            r"\bworking student\b",
            r"\b(phd|doctoral|graduate|undergraduate|masters?|mba|msc|bsc) (candidate|student)\b",
        ),
    ),
    # Whoever they support, a title ending in "assistant" is one ("CEO Assistant"); "Assistant
    # Manager" and "Assistant Director" do not end in it and keep their level.
    (Seniority.INDIVIDUAL, _any(r"\bassistants?$")),
    (Seniority.DIRECTOR, _any(r"\bchief of staff\b")),  # before "chief" makes it c-level
    (Seniority.C_LEVEL, _any(r"\bchief\b", r"\b(" + "|".join(_C_SUITE) + r")\b", *_TOP_EXECUTIVE)),
    (Seniority.DIRECTOR, _any(r"\b(assistant|associate) (vice president|vp)\b", r"\bavp\b")),
    (Seniority.VP, _any(r"\b[segr]?vp\b", r"\bvice president\b")),
    (Seniority.DIRECTOR, _any(r"\bdirect(or|ors|eur|rice|ora)\b", r"\bheads?\b", r"\bleiter(in)?\b")),
    (
        Seniority.MANAGER,
        _any(
            r"\bmanag(er|ers|ing)\b",
            r"\b(team|tech) lead(er)?\b",
            r"\blead$",
            r"^(senior |principal )?lead\b(?! gen)",
            r"\bleader\b",
            r"\b(supervisor|superintendent|foreman|gerente|responsable|controller|comptroller)\b",
        ),
    ),
    # Weak: "student" only when the title is about being one, not "Student Success Manager".
    (Seniority.STUDENT, _any(r"^students?\b", r"\bstudents?$")),
)

# Role nouns that mark a real individual-contributor title when no level word matched.
_INDIVIDUAL_WORDS: frozenset[str] = frozenset(
    {
        *("engineer", "engineers", "developer", "programmer", "tester", "architect", "scientist", "designer"),
        *("analyst", "specialist", "consultant", "associate", "representative", "coordinator", "researcher"),
        *("accountant", "bookkeeper", "auditor", "administrator", "admin", "assistant", "secretary"),
        *("receptionist", "executive", "officer", "agent", "clerk", "technician", "operator", "planner"),
        *("staff", "principal", "senior", "junior", "member", "employee", "professional", "expert", "fellow"),
        *("writer", "copywriter", "editor", "recruiter", "advisor", "adviser", "partner", "strategist"),
        *("generalist", "owner", "contractor", "freelancer", "freelance", "self", "buyer", "trainee"),
        *("marketer", "salesperson", "seller", "ambassador", "evangelist", "advocate", "instructor", "trainer"),
        *("teacher", "professor", "lecturer", "postdoc", "nurse", "physician", "doctor", "attorney", "lawyer"),
        *("counsel", "paralegal"),
    }
)


def _seniority(text: str, function: JobFunction) -> Seniority:
    """The first level rule that matches; otherwise individual if anything in the title is a role."""
    for seniority, pattern in _SENIORITY_RULES:
        if pattern.search(text):
            return seniority
    if function is not JobFunction.OTHER or not _INDIVIDUAL_WORDS.isdisjoint(text.split()):
        return Seniority.INDIVIDUAL
    return Seniority.UNKNOWN


# --- Function -----------------------------------------------------------------------------------

# Precedence order: a title naming several functions takes the first one listed here.
_FUNCTION_RULES: tuple[tuple[JobFunction, re.Pattern[str]], ...] = (
    (
        JobFunction.HR,
        _any(
            r"\bhr\b",
            r"\bhuman resources?\b",
            r"\bpeople\b",
            r"\btalent\b",
            r"\brecruit\w*",
            r"\bpayroll\b",
            r"\bcompensation\b",
            r"\bbenefits\b",
            r"\blearning and development\b",
            r"\bpersonnel\b",
            r"\bemployee (relations|experience|engagement)\b",
        ),
    ),
    (
        JobFunction.FINANCE,
        _any(
            r"\bfinanc\w*",
            r"\baccounting\b",
            r"\baccountants?\b",
            r"\baccounts (payable|receivable)\b",
            r"\b(controller|comptroller|bookkeep\w*|billing|credit)\b",
            r"\btreasur\w*",
            r"\baudit\w*",
            r"\btax(ation)?\b",
            r"\bfpa\b",
            r"\binvest\w*",
        ),
    ),
    (
        JobFunction.MARKETING,
        _any(
            r"\bmarket(ing|er|eer)s?\b",
            r"\bmarket research\b",
            r"\bgrowth\b",
            r"\bbrand\w*",
            r"\bcontent\b",
            r"\bcommunications?\b",
            r"\b(pr|public relations)\b",
            r"\b(demand|lead) gen\w*",
            r"\b(seo|sem|ppc|abm|crm|gtm)\b",
            r"\b(social )?media\b",
            r"\badvertising\b",
            r"\bevents?\b",
            r"\bcampaigns?\b",
            r"\bcopywrit\w*",
            r"\bcreative\b",
            r"\bgraphic design\w*",
            r"\bart director\b",
            r"\bcommunity\b",
            r"\blifecycle\b",
        ),
    ),
    (
        JobFunction.SALES,
        _any(
            r"\bsales(person|people|man|woman|force)?\b",  # Salesforce admins sit in revenue operations
            r"\bselling\b",
            r"\baccount\b",
            r"\bkey accounts\b",
            r"\bbusiness develop\w*",
            r"\brevenue\b",
            r"\bcommercial\b",
            r"\bpartnerships?\b",
            r"\bpartner manager\b",
            r"\bchannel\b",
            r"\balliances?\b",
            r"\b(customer|client) success\b",
            r"\bpre ?sales\b",
            r"\b(ventes?|ventas|vertrieb|verkauf)\b",
        ),
    ),
    (
        JobFunction.IT,
        _any(
            r"\bit\b",
            r"\binformation (technology|systems|security)\b",
            r"\bchief information\b",
            r"\b(infosec|cyber\w*)\b",
            r"\bsecurity (analyst|engineer|architect|operations|officer)\b",
            r"\bsys ?admin\w*",
            r"\bsystems? admin\w*",
            r"\bnetwork (admin\w*|engineer\w*|manager|architect)\b",
            r"\b(help ?desk|service desk|desktop support|technical support)\b",
            r"\b(dba|database admin\w*)\b",
            r"\binfrastructure\b",
            r"\b(erp|sap)\b",
        ),
    ),
    (
        JobFunction.ENGINEERING,
        _any(
            r"\bengineer\w*",
            r"\bdevelop(er|ers|ment)\b",
            r"\bprogramm(er|ing)\b",
            r"\bsoftware\b",
            r"\b(devops|sre|site reliability)\b",
            r"\barchitect\w*",
            r"\b(qa|quality assurance|tester|test automation)\b",
            r"\btech(nical|nology|nologist)?\b",
            r"\bdata (scien\w*|engineer\w*|analy\w*|architect\w*)",
            r"\b(machine learning|ml|ai|artificial intelligence)\b",
            r"\b(front ?end|back ?end|full ?stack|mobile|ios|android|web)\b",
            r"\bproducts?\b",
            r"\bresearch and development\b",
            r"\b(firmware|hardware|platform|cloud|ux|ui)\b",
            r"\b(ingenieur|ingeniero)\w*",
        ),
    ),
    (
        JobFunction.OPERATIONS,
        _any(
            r"\boperat(ions|ing|ional)\b",
            r"\bsupply chain\b",
            r"\b(logistics|procurement|purchasing|sourcing|facilities|facility)\b",
            r"\boffice manager\b",
            r"\b(manufacturing|production|plant|warehouse|fulfil\w*)\b",
            r"\bcustomer (support|service\w*|experience)\b",
            r"\bsupport\b",
            r"\bquality\b",
        ),
    ),
    (JobFunction.EXECUTIVE, _any(r"\bchief of staff\b", r"\bexecutive director\b", *_TOP_EXECUTIVE)),
)


def _c_suite_function(text: str) -> JobFunction | None:
    """The function named by the first C-suite acronym that names just one ("Founder & CTO")."""
    for token in text.split():
        function = _C_SUITE.get(token)
        if function is not None and function is not JobFunction.OTHER:
            return function
    return None


def _job_function(text: str) -> JobFunction:
    acronym_function = _c_suite_function(text)
    if acronym_function is not None:
        return acronym_function
    for function, pattern in _FUNCTION_RULES:
        if pattern.search(text):
            return function
    return JobFunction.OTHER


def parse_title(title: str) -> TitleInfo:
    """Seniority and function of a free-text job title; (unknown, other) when nothing is recognised.

    See the module docstring for how ambiguous titles are decided.
    """
    text = normalise_title(title)
    if not text:
        return UNKNOWN_TITLE
    function = _job_function(text)
    return TitleInfo(seniority=_seniority(text, function), function=function)
