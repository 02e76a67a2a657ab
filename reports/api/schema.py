"""What the OpenAPI schema shows of the reports API (``reports.api.views``): its filters and examples.

The views keep what each operation promises (id, summary, description, statuses); the responses every
app's API shares (401, 403, 429) come from ``leads.api.schema``.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

FILTERS = [
    OpenApiParameter(
        "created_after", OpenApiTypes.DATE, description="Leads created on or after this day (`2026-03-01`)."
    ),
    OpenApiParameter("created_before", OpenApiTypes.DATE, description="Leads created on or before this day."),
    OpenApiParameter("form", OpenApiTypes.STR, description="Leads that submitted this form (its slug)."),
    OpenApiParameter("campaign", OpenApiTypes.STR, description="Leads whose first touch had this campaign."),
    OpenApiParameter("team", OpenApiTypes.STR, description="Leads routed to this team (its slug)."),
]
# Ends each report's description.
FILTERS_TEXT = (
    "Filters, as on the reports page: `created_after`/`created_before` (days, both inclusive), `form` (a form's "
    "slug), `campaign` (the first touch's) and `team` (a team's slug). An invalid filter (a day that is not a date, a "
    "reversed range, an unknown form or team) is a 400 with the messages keyed by the parameters sent: a reversed "
    "range names both `created_after` and `created_before`.\n\n"
    "Needs a person allowed to view the reports (managers, marketers), or an integration key with the `read` or "
    "`full` scope."
)
INVALID_FILTER = OpenApiResponse(OpenApiTypes.OBJECT, description="An invalid filter: the messages by query parameter.")
_INVALID_FILTER_EXAMPLES = [
    OpenApiExample(
        "An unknown team",
        value={"team": ["Select a valid choice. mars is not one of the available choices."]},
        response_only=True,
        status_codes=["400"],
    ),
    OpenApiExample(
        "A day that is not a date",
        value={"created_after": ["Enter a valid date."]},
        response_only=True,
        status_codes=["400"],
    ),
]

FUNNEL_EXAMPLES = [
    OpenApiExample(
        "The funnel",
        value={
            "key": "funnel",
            "title": "Lead → MQL → SQL funnel",
            "note": "Median time from the previous step …",
            "columns": [
                {"key": "stage", "label": "Stage", "kind": "text", "group": ""},
                {"key": "leads", "label": "Leads", "kind": "int", "group": ""},
                {"key": "from_previous", "label": "From previous", "kind": "pct", "group": ""},
                {"key": "from_leads", "label": "From all leads", "kind": "pct", "group": ""},
                {"key": "median_time", "label": "Median time", "kind": "hours", "group": ""},
            ],
            "rows": [
                {"stage": "Lead", "leads": 200, "from_previous": None, "from_leads": 1.0, "median_time": None},
                {"stage": "MQL", "leads": 50, "from_previous": 0.25, "from_leads": 0.25, "median_time": 30.5},
                {"stage": "SQL", "leads": 10, "from_previous": 0.2, "from_leads": 0.05, "median_time": 52.0},
            ],
        },
        response_only=True,
        status_codes=["200"],
    ),
    *_INVALID_FILTER_EXAMPLES,
]
ATTRIBUTION_EXAMPLES = [
    OpenApiExample(
        "Two channels",
        value={
            "key": "attribution",
            "title": "Attribution by channel: first, last, linear and position-based",
            "note": "Each lead gives one credit in total …",
            "columns": [
                {"key": "channel", "label": "Channel", "kind": "text", "group": ""},
                {"key": "leads_first", "label": "First", "kind": "credit", "group": "Leads"},
                {"key": "leads_linear", "label": "Linear", "kind": "credit", "group": "Leads"},
            ],
            "rows": [
                {"channel": "Paid social", "leads_first": 12.0, "leads_linear": 9.5},
                {"channel": "Organic search", "leads_first": 8.0, "leads_linear": 10.5},
                {"channel": "All channels", "leads_first": 20.0, "leads_linear": 20.0},
            ],
        },
        response_only=True,
        status_codes=["200"],
    ),
    *_INVALID_FILTER_EXAMPLES,
]
