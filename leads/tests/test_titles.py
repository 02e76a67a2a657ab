"""Job-title parsing is pure: these tests need no database."""

import pytest

from leads.enrichment.titles import (
    JobFunction,
    Seniority,
    TitleInfo,
    normalise_title,
    parse_title,
)

C = Seniority.C_LEVEL
VP = Seniority.VP
DIR = Seniority.DIRECTOR
MGR = Seniority.MANAGER
IC = Seniority.INDIVIDUAL
STU = Seniority.STUDENT

MKT = JobFunction.MARKETING
SAL = JobFunction.SALES
ENG = JobFunction.ENGINEERING
IT = JobFunction.IT
FIN = JobFunction.FINANCE
HR = JobFunction.HR
OPS = JobFunction.OPERATIONS
EXE = JobFunction.EXECUTIVE
OTH = JobFunction.OTHER

TITLES: list[tuple[str, Seniority, JobFunction]] = [
    # C-level: acronyms, spelled out, founders and owners
    ("CEO", C, EXE),
    ("C.E.O.", C, EXE),
    ("Chief Executive Officer", C, EXE),
    ("Co-founder & CEO", C, EXE),
    ("Founder", C, EXE),
    ("Founder & CTO", C, ENG),
    ("Co-Founder, Head of Product", C, ENG),
    ("CTO", C, ENG),
    ("Chief Technology Officer", C, ENG),
    ("CFO", C, FIN),
    ("Chief Financial Officer", C, FIN),
    ("COO", C, OPS),
    ("Chief Operating Officer", C, OPS),
    ("CMO", C, MKT),
    ("Chief Marketing Officer", C, MKT),
    ("Chief Revenue Officer", C, SAL),
    ("CIO", C, IT),
    ("Chief Information Security Officer", C, IT),
    ("CHRO", C, HR),
    ("Chief People Officer", C, HR),
    ("CPO", C, OTH),
    ("Owner", C, EXE),
    ("Business Owner", C, EXE),
    ("President", C, EXE),
    ("President & COO", C, OPS),
    ("President, Sales", C, SAL),
    ("Chairman of the Board", C, EXE),
    ("Managing Director", C, EXE),
    ("Managing Director, Sales", C, SAL),
    ("MD", C, EXE),
    ("General Manager", C, EXE),
    ("Managing Partner", C, EXE),
    ("Partner", C, EXE),
    ("Directeur Général", C, EXE),
    ("Directrice Générale", C, EXE),
    ("Geschäftsführer", C, EXE),
    # VP
    ("VP Mktg", VP, MKT),
    ("VP of Engineering", VP, ENG),
    ("SVP Sales", VP, SAL),
    ("EVP", VP, OTH),
    ("Executive Vice President", VP, OTH),
    ("Vice President, Marketing", VP, MKT),
    ("V.P. of Sales", VP, SAL),
    ("Vice-President Finance", VP, FIN),
    ("Sr. VP, Human Resources", VP, HR),
    ("VP Eng", VP, ENG),
    # Director and head of
    ("Head of Growth", DIR, MKT),
    ("Head of People", DIR, HR),
    ("Head of IT", DIR, IT),
    ("Dir. of IT", DIR, IT),
    ("Director of Sales Operations", DIR, SAL),
    ("Senior Director, Product Marketing", DIR, MKT),
    ("Director of Engineering", DIR, ENG),
    ("Associate Director, Finance", DIR, FIN),
    ("Assistant Vice President, IT", DIR, IT),
    ("Executive Director", DIR, EXE),
    ("Chief of Staff", DIR, EXE),
    ("Commercial Director", DIR, SAL),
    ("Directeur Marketing", DIR, MKT),
    ("Art Director", DIR, MKT),
    ("Assistant Director of Marketing", DIR, MKT),
    ("Sales Director EMEA", DIR, SAL),
    ("Sales & Marketing Director", DIR, MKT),
    # Manager and lead
    ("IT Manager", MGR, IT),
    ("Marketing Ops Lead", MGR, MKT),
    ("Finance Manager", MGR, FIN),
    ("Operations Manager", MGR, OPS),
    ("Product Manager", MGR, ENG),
    ("Sr. Product Marketing Mgr", MGR, MKT),
    ("Team Lead", MGR, OTH),
    ("Tech Lead", MGR, ENG),
    ("Lead Software Engineer", MGR, ENG),
    ("Engineering Manager", MGR, ENG),
    ("Account Manager", MGR, SAL),
    ("Customer Success Manager", MGR, SAL),
    ("Controller", MGR, FIN),
    ("Financial Controller", MGR, FIN),
    ("Talent Acquisition Manager", MGR, HR),
    ("Office Manager", MGR, OPS),
    ("Supply Chain Manager", MGR, OPS),
    ("Social Media Manager", MGR, MKT),
    ("Project Manager", MGR, OTH),
    ("Assistant Manager", MGR, OTH),
    ("Customer Support Team Leader", MGR, OPS),
    ("Student Success Manager", MGR, OTH),
    ("Responsable Marketing", MGR, MKT),
    # Individual contributors
    ("Sr. Software Engineer", IC, ENG),
    ("Software Engineer", IC, ENG),
    ("Principal Engineer", IC, ENG),
    ("Staff Engineer", IC, ENG),
    ("Founding Engineer", IC, ENG),
    ("DevOps Engineer", IC, ENG),
    ("Full-Stack Developer", IC, ENG),
    ("Data Scientist", IC, ENG),
    ("Solutions Architect", IC, ENG),
    ("QA Tester", IC, ENG),
    ("UX Designer", IC, ENG),
    ("Product Owner", IC, ENG),
    ("Account Executive", IC, SAL),
    ("Sales Executive", IC, SAL),
    ("Enterprise AE", IC, SAL),
    ("SDR", IC, SAL),
    ("Business Development Representative", IC, SAL),
    ("Sales Engineer", IC, SAL),
    ("Marketing Specialist", IC, MKT),
    ("Content Writer", IC, MKT),
    ("Lead Generation Specialist", IC, MKT),
    ("Growth Marketer", IC, MKT),
    ("HR Business Partner", IC, HR),
    ("Technical Recruiter", IC, HR),
    ("IT Recruiter", IC, HR),
    ("Senior Accountant", IC, FIN),
    ("Financial Analyst", IC, FIN),
    ("Accounts Payable Clerk", IC, FIN),
    ("Revenue Accountant", IC, FIN),
    ("Systems Administrator", IC, IT),
    ("Network Engineer", IC, IT),
    ("Help Desk Technician", IC, IT),
    ("Security Analyst", IC, IT),
    ("Procurement Specialist", IC, OPS),
    ("Logistics Coordinator", IC, OPS),
    ("Executive Assistant", IC, OTH),
    ("Executive Assistant to the CEO", IC, OTH),
    ("Assistant to the VP", IC, OTH),
    ("CEO Assistant", IC, EXE),
    ("Marketing Assistant", IC, MKT),
    ("Salesforce Administrator", IC, SAL),
    ("Management Consultant", IC, OTH),
    ("Paralegal", IC, OTH),
    ("Freelance Consultant", IC, OTH),
    # Students
    ("Student", STU, OTH),
    ("MBA Student", STU, OTH),
    ("PhD candidate", STU, OTH),
    ("PhD Candidate in Computer Science", STU, OTH),
    ("Intern", STU, OTH),
    ("Marketing Intern", STU, MKT),
    ("Software Engineering Intern", STU, ENG),
    ("Summer Internship", STU, OTH),
    ("Apprentice", STU, OTH),
    ("Werkstudent Vertrieb", STU, SAL),
]


@pytest.mark.parametrize(("title", "seniority", "function"), TITLES)
def test_parse_title_finds_seniority_and_function(title: str, seniority: Seniority, function: JobFunction) -> None:
    info = parse_title(title)

    assert info == TitleInfo(seniority=seniority, function=function)


def test_title_table_covers_at_least_seventy_distinct_titles() -> None:
    assert len({title for title, _, _ in TITLES}) >= 70


@pytest.mark.parametrize(
    "title",
    ["vp marketing", "VP MARKETING", "  Vp,   Marketing!! ", "V.P. Marketing", "V. P. - Marketing", "vp/mktg"],
)
def test_parse_title_ignores_case_spacing_and_punctuation(title: str) -> None:
    assert parse_title(title) == TitleInfo(seniority=Seniority.VP, function=JobFunction.MARKETING)


@pytest.mark.parametrize("title", ["", "   ", "-", "???", "N/A", "asdfgh", "12345", "Mr", "none", "💼🚀"])
def test_parse_title_gives_unknown_other_for_empty_or_garbage(title: str) -> None:
    assert parse_title(title) == TitleInfo(seniority=Seniority.UNKNOWN, function=JobFunction.OTHER)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Sr. V.P., Mktg & Ops", "senior vp marketing and operations"),
        ("Dir. of IT", "director of it"),
        ("R&D Mgr", "research and development manager"),
        ("Co-Founder", "cofounder"),
        ("Directrice Générale", "directrice generale"),
        ("Assistant to the CEO", "assistant"),
    ],
)
def test_normalise_title_spells_out_abbreviations(title: str, expected: str) -> None:
    assert normalise_title(title) == expected


def test_parse_title_values_are_plain_strings_for_storage() -> None:
    info = parse_title("CTO")

    assert (info.seniority, info.function) == ("c_level", "engineering")


def test_title_info_is_frozen() -> None:
    info = parse_title("CTO")

    with pytest.raises(AttributeError):
        info.seniority = Seniority.VP  # type: ignore[misc]
