"""Who reads which learning metrics (docs/privacy.md), and a coach's totals over their own teams.

- analysts and admins: the whole organisation, every breakdown;
- coaches: their own teams only (the teams in their token). The query itself selects only those
  teams' cells. A coach's total (`group_by=none`, or per process) is the sum of their teams'
  cells, made of the figures those cells *show*: a figure hidden in one of their teams is hidden
  in the total too, or the total minus the other teams would give it away. So a coach's total
  tells nothing that their teams' rows do not already tell, and rests on at least the minimum
  group (every shown figure does);
- workers, LRS clients and services: no metrics (their own learning is under /v1/my-learning).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from kit.auth import Principal, Role
from kit.errors import Forbidden
from services.analytics.metrics.figures import ADDITIVE, COUNTED, METRICS
from services.analytics.metrics.models import MetricCell
from services.analytics.metrics.privacy import ALL

FORMAL = ("formal_completed", "formal_passed")


def readable_teams(principal: Principal, team: str | None) -> frozenset[str] | None:
    """The teams whose cells `principal` may read: None for the whole organisation.

    Raises Forbidden (`not_your_team`) for a coach asking for another team or a coach without
    any team, and Forbidden (`role_required`) for every other role (the route's role check
    already refuses them; this keeps the rule whole where the scope is decided)."""
    if principal.has_role(Role.analyst, Role.admin):
        return None
    if not principal.has_role(Role.coach):
        raise Forbidden(
            "learning metrics are for analysts, admins and coaches", code="role_required"
        )
    if not principal.teams:
        raise Forbidden("a coach without a team has no team metrics", code="not_your_team")
    if team is not None and team not in principal.teams:
        raise Forbidden("coaches see their own teams' metrics", code="not_your_team")
    return principal.teams


def compose(cells: Iterable[MetricCell]) -> list[MetricCell]:
    """Per period and process, one total over the teams of `cells` (a coach's teams), made only
    of figures shown in every team's cell; returned as cells of team "*" (not stored).

    A team without a cell had no learning facts there: it adds nothing. With one team the cell
    is returned as it is; over several, counts, active learners (a person active in two of the
    teams counts in both) and the impact sum are added up, the adoption rate and the informal
    share are computed from the added counts, and medians and means are hidden (they cannot be
    computed from shown figures)."""
    groups: dict[tuple[str, str], list[MetricCell]] = defaultdict(list)
    for cell in cells:
        groups[(cell.period, cell.process)].append(cell)
    out = []
    for (period, process), parts in sorted(groups.items()):
        values = parts[0].values if len(parts) == 1 else _sum(parts)
        shown = {metric: values.get(metric) for metric in METRICS}
        out.append(
            MetricCell(
                period=period,
                team=ALL,
                process=process,
                month=parts[0].month,
                people=sum(part.people for part in parts),
                suppressed=all(value is None for value in shown.values()),
                values=shown,
            )
        )
    return out


def _sum(parts: list[MetricCell]) -> dict[str, float | None]:
    total: dict[str, float | None] = dict.fromkeys(METRICS)
    for metric in ADDITIVE:
        figures = [part.values.get(metric) for part in parts]
        if all(figure is not None for figure in figures):
            added = sum(figure for figure in figures if figure is not None)
            total[metric] = round(added, 2) if metric == "hours_saved_per_week" else added
    adopted, rejected = total["ideas_adopted"], total["ideas_rejected"]
    if adopted is not None and rejected is not None and adopted + rejected:
        total["adoption_rate"] = round(adopted / (adopted + rejected), 4)
    counts = [total[metric] for metric in COUNTED]
    if all(count is not None for count in counts):
        events = sum(count for count in counts if count is not None)
        formal = sum(total[metric] or 0 for metric in FORMAL)
        total["informal_share"] = round((events - formal) / events, 4) if events else None
    return total
