"""Realised values: simple counts on the written parquet files (DuckDB SQL), for truth.json.

The definitions follow the project's declared cohorts and measures (outcomes.cohort,
outcomes.measures.catalogue) and are spelled out in `DEFINITIONS`.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from outcomes.reference._codes import CODES, DBT_PROCEDURE
from outcomes.reference._model import iso
from outcomes.reference._write import CUT_ONLY, TABLES

CYP_BEDS = CODES["bed_type"].groups["cyp"]
(PICU,) = CODES["bed_type"].groups["cyp_picu"]
CYP_WARD_AGES = CODES["ward_age"].groups["cyp"]
EMERGENCY = CODES["admission_method"].groups["emergency"]
CRISIS_TEAMS = CODES["service_team_type"].groups["crisis"]
ATTENDED = CODES["attendance"].groups["attended"]
MH_COMPLAINTS = tuple(CODES["ecds_mental_health_complaint"].labels)
(SELF_HARM_INTENT,) = CODES["ecds_mental_health_complaint"].groups["self_harm_intent"]
FOOTPRINT = CODES["collaborative"].groups["footprint"]
NETWORK = CODES["collaborative"].groups["network_providers"]

DEFINITIONS = {
    "bed_days_rule": "MHS24: for a ward stay and a period [p0, p1), max(0, min(end, p1) - max(start, p0)) days; the admission day "
    "counts, the discharge day does not; an open stay (null end) runs to the extract end (2024-03-31 inclusive)",
    "cyp_ward_stays": "MHS502WardStay rows with MHAdmittedPatientClass in bed_type group cyp, WardType 01, WardAge 10/11/12, the person "
    "aged 0-17 on StartDateWardStay (MHS001MPI.PersonBirthDate)",
    "cyp_bed_days": "bed days of cyp_ward_stays of footprint residents (MHS001MPI.LADistrictAuth in the 12 footprint LAs), any provider",
    "cyp_bed_days_collaborative": "bed days of cyp_ward_stays of footprint residents OR on wards of network providers (RPG, RV5, RQY): "
    "outcomes.measures.catalogue 'bed_days'",
    "ooa_bed_days": "bed days of cyp_ward_stays of footprint residents on wards of providers outside the network (OrgIDProv not in "
    "RPG, RV5, RQY): catalogue 'out_of_area_bed_days'",
    "cyp_admissions": "hospital spells whose first ward stay is a cyp_ward_stay (footprint residents or network providers), by "
    "StartDateHospProvSpell",
    "cyp_admissions_excluding_transfers_in": "cyp_admissions without admission method 81 (transfers from another provider: the "
    "repatriations from out-of-network units)",
    "picu_los": "EndDateWardStay - StartDateWardStay (days) of closed cyp_ward_stays on bed type 309 (footprint residents or network "
    "providers); median over stays starting in the window (and, as the catalogue does, ending in the window)",
    "cypmhs_referral": "MHS101Referral received while aged 0-17",
    "known_service_user": "on date d: has a CYPMHS referral with ReferralRequestReceivedDate <= d and (ServDischDate null or > d)",
    "ae_known_users": "ECDS attendances with a mental-health chief complaint or self-harm (as crisis_escalations) of known "
    "service users on Arrival_Date",
    "ae_known_users_any_reason": "ECDS attendances (any reason) of known service users on Arrival_Date",
    "crisis_activity": "attended contacts (AttendOrDNACode 5/6) on referrals to crisis teams (A02, A03, A04, A18, A19) of "
    "known service users on CareContDate: a process measure, not an escalation",
    "crisis_escalations": "escalation outcomes: A&E attendances with a mental-health chief complaint (ecds_mental_health_complaint "
    "codes) or self-harm (injury intent 276853009 or complaint 248062006), and spells with an emergency admission method "
    "(21-2D, 28), each of known service users on the event date (crisis-team contacts are activity, not escalations)",
}


#: the events that are escalation outcomes: mental-health / self-harm A&E attendances and emergency admissions
ESCALATION = "((kind = 'ae' AND mh) OR kind = 'emergency_admission')"


def _in(values) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _age(birth: str, on: str) -> str:
    return f"(year({on}) - year({birth}) - CASE WHEN month({on}) * 100 + day({on}) < month({birth}) * 100 + day({birth}) THEN 1 ELSE 0 END)"


def realised(folder: Path, baseline: tuple[int, int], post: tuple[int, int]) -> dict:
    """Simple counts on the written files: baseline/post pairs (`_window_counts`), the monthly
    series (`_monthly`), the DBT cohort (`_dbt`) and the row count of every table."""
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    for name in TABLES:
        if name == "area_statistics" or name in CUT_ONLY:  # written after these counts (_areas.py, _history.py)
            continue
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{(Path(folder) / (name + '.parquet')).as_posix()}')")
    _stage(con)
    out = _window_counts(con, baseline=baseline, post=post)
    out["monthly"] = _monthly(con)
    out["dbt"] = _dbt(con)
    out["row_counts"] = {name: int(con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]) for name in TABLES
                         if name != "area_statistics" and name not in CUT_ONLY}
    con.close()
    return out


def _stage(con, events: bool = True) -> None:
    """Temporary tables: cyp (CYP ward stays with residence, network and admission method),
    cyp_refs (referrals received while aged 0-17) and, with `events`, events (of known service users)."""
    fp, net = _in(FOOTPRINT), _in(NETWORK)
    stop = "DATE '2024-04-01'"
    con.execute(
        f"""CREATE TEMP TABLE cyp AS
        SELECT w.UniqWardStayID, w.UniqHospProvSpellID, w.Person_ID, w.OrgIDProv, w.MHAdmittedPatientClass AS bed,
               w.StartDateWardStay AS s, w.EndDateWardStay AS e_raw, least(coalesce(w.EndDateWardStay, {stop}), {stop}) AS e,
               coalesce(m.LADistrictAuth IN {fp}, false) AS fp, w.OrgIDProv IN {net} AS network,
               w.StartDateWardStay = h.StartDateHospProvSpell AS first_stay, h.MethAdmMHHospProvSpell AS meth
        FROM MHS502WardStay w JOIN MHS001MPI m USING (Person_ID) JOIN MHS501HospProvSpell h USING (UniqHospProvSpellID)
        WHERE w.MHAdmittedPatientClass IN {_in(CYP_BEDS)} AND w.WardType = '01' AND w.WardAge IN {_in(CYP_WARD_AGES)}
          AND {_age('m.PersonBirthDate', 'w.StartDateWardStay')} BETWEEN 0 AND 17"""
    )
    con.execute(
        f"""CREATE TEMP TABLE cyp_refs AS
        SELECT r.Person_ID, r.ReferralRequestReceivedDate AS rec, r.ServDischDate AS dis
        FROM MHS101Referral r JOIN MHS001MPI m USING (Person_ID)
        WHERE {_age('m.PersonBirthDate', 'r.ReferralRequestReceivedDate')} BETWEEN 0 AND 17"""
    )

    if not events:
        return

    def known(alias: str, date: str) -> str:
        return f"EXISTS (SELECT 1 FROM cyp_refs r WHERE r.Person_ID = {alias}.Person_ID AND r.rec <= {date} AND (r.dis IS NULL OR r.dis > {date}))"

    con.execute(
        f"""CREATE TEMP TABLE events AS
        SELECT 'ae' AS kind, e.Arrival_Date AS d, coalesce(m.LADistrictAuth IN {fp}, false) AS fp,
               coalesce(e.EC_Chief_Complaint_SNOMED_CT IN {_in(MH_COMPLAINTS)}, false)
               OR coalesce(e.EC_Injury_Intent_SNOMED_CT = '{SELF_HARM_INTENT}', false) AS mh
        FROM ECDS e JOIN MHS001MPI m USING (Person_ID) WHERE {known('e', 'e.Arrival_Date')}
        UNION ALL
        SELECT 'crisis_contact', c.CareContDate, coalesce(m.LADistrictAuth IN {fp}, false), true
        FROM MHS201CareContact c JOIN MHS101Referral r USING (UniqServReqID) JOIN MHS001MPI m ON m.Person_ID = c.Person_ID
        WHERE r.ServTeamTypeRefToMH IN {_in(CRISIS_TEAMS)} AND c.AttendOrDNACode IN {_in(ATTENDED)} AND {known('c', 'c.CareContDate')}
        UNION ALL
        SELECT 'emergency_admission', h.StartDateHospProvSpell, coalesce(m.LADistrictAuth IN {fp}, false), true
        FROM MHS501HospProvSpell h JOIN MHS001MPI m USING (Person_ID)
        WHERE h.MethAdmMHHospProvSpell IN {_in(EMERGENCY)} AND {known('h', 'h.StartDateHospProvSpell')}"""
    )


def _between(col: str, w: tuple[int, int]) -> str:
    return f"{col} >= DATE '{iso(w[0])}' AND {col} < DATE '{iso(w[1])}'"


def _pair(base: float, post_: float) -> dict:
    return {"baseline": base, "post": post_, "post_over_baseline": post_ / base if base else None, "reduction": 1 - post_ / base if base else None}


def _window_counts(con, *, baseline: tuple[int, int], post: tuple[int, int]) -> dict:
    """Bed days, admissions, PICU median lengths of stay and known users' events in the baseline and post windows."""

    def bed_days(where: str, w: tuple[int, int]) -> int:
        w0, w1 = f"DATE '{iso(w[0])}'", f"DATE '{iso(w[1])}'"
        sql = f"SELECT coalesce(sum(greatest(0, date_diff('day', greatest(s, {w0}), least(e, {w1})))), 0) FROM cyp WHERE {where}"
        return int(con.execute(sql).fetchone()[0])

    out: dict = {}
    for name, where in (("cyp_bed_days", "fp"), ("cyp_bed_days_collaborative", "fp OR network"), ("ooa_bed_days", "fp AND NOT network")):
        out[name] = _pair(bed_days(where, baseline), bed_days(where, post))
    b_all, b_ooa = out["cyp_bed_days"]["baseline"], out["ooa_bed_days"]["baseline"]
    out["baseline_ooa_share_of_cyp_bed_days"] = b_ooa / b_all if b_all else None
    for name, where in (
        ("cyp_admissions", "fp OR network"),
        ("cyp_admissions_footprint", "fp"),
        ("cyp_admissions_excluding_transfers_in", "(fp OR network) AND meth <> '81'"),
    ):
        counts = [
            con.execute(f"SELECT count(DISTINCT UniqHospProvSpellID) FROM cyp WHERE first_stay AND ({where}) AND {_between('s', w)}").fetchone()[0]
            for w in (baseline, post)
        ]
        out[name] = _pair(*counts)
    for name, col in (("picu_median_los_by_start", "s"), ("picu_median_los_by_end", "e_raw")):
        medians = [
            con.execute(
                f"SELECT median(date_diff('day', s, e_raw)) FROM cyp WHERE bed = '{PICU}' AND e_raw IS NOT NULL AND (fp OR network) AND {_between(col, w)}"
            ).fetchone()[0]
            for w in (baseline, post)
        ]
        ratio = medians[1] / medians[0] if medians[0] and medians[1] is not None else None
        out[name] = {"baseline": medians[0], "post": medians[1], "post_over_baseline": ratio}
    for name, where in (
        ("ae_known_users", "kind = 'ae' AND mh"),
        ("ae_known_users_footprint", "kind = 'ae' AND mh AND fp"),
        ("ae_known_users_any_reason", "kind = 'ae'"),
        ("crisis_escalations", f"{ESCALATION}"),
        ("crisis_escalations_footprint", f"{ESCALATION} AND fp"),
        ("crisis_contacts_known_users", "kind = 'crisis_contact'"),
        ("emergency_admissions_known_users", "kind = 'emergency_admission'"),
    ):
        counts = [con.execute(f"SELECT count(*) FROM events WHERE ({where}) AND {_between('d', w)}").fetchone()[0] for w in (baseline, post)]
        out[name] = _pair(*counts)
    return out


def _monthly(con) -> dict:
    """The monthly series 2014-04 .. 2024-03 of bed days, admissions and known users' events."""
    con.execute("CREATE TEMP TABLE months AS SELECT CAST(m AS DATE) AS m0, CAST(m + INTERVAL 1 MONTH AS DATE) AS m1 FROM generate_series(DATE '2014-04-01', DATE '2024-03-01', INTERVAL 1 MONTH) t(m)")
    beds = con.execute(
        """SELECT strftime(m0, '%Y-%m'),
            sum(greatest(0, date_diff('day', greatest(s, m0), least(e, m1)))) FILTER (WHERE fp),
            sum(greatest(0, date_diff('day', greatest(s, m0), least(e, m1)))) FILTER (WHERE fp OR network),
            sum(greatest(0, date_diff('day', greatest(s, m0), least(e, m1)))) FILTER (WHERE fp AND NOT network),
            count(DISTINCT UniqHospProvSpellID) FILTER (WHERE first_stay AND (fp OR network) AND s >= m0)
        FROM months JOIN cyp ON s < m1 AND e > m0 GROUP BY m0 ORDER BY m0"""
    ).fetchall()
    events = dict(
        (str(r[0])[:7], r[1:])
        for r in con.execute(
            "SELECT strftime(date_trunc('month', d), '%Y-%m'), count(*) FILTER (WHERE kind = 'ae' AND mh), "
            f"count(*) FILTER (WHERE {ESCALATION}), count(*) FILTER (WHERE kind = 'crisis_contact') FROM events GROUP BY 1"
        ).fetchall()
    )
    by_month = {r[0]: [int(x or 0) for x in r[1:]] for r in beds}
    months = [r[0] for r in con.execute("SELECT strftime(m0, '%Y-%m') FROM months ORDER BY m0").fetchall()]
    monthly = [(m, *by_month.get(m, [0, 0, 0, 0]), *[int(x) for x in events.get(m, (0, 0, 0))]) for m in months]
    columns = ("month", "cyp_bed_days", "cyp_bed_days_collaborative", "ooa_bed_days", "cyp_admissions", "ae_known_users",
               "crisis_escalations", "crisis_activity")
    return {c: [row[i] if i == 0 else int(row[i]) for row in monthly] for i, c in enumerate(columns)}


def _dbt(con) -> dict:
    con.execute(
        f"""CREATE TEMP TABLE dbt AS
        WITH first AS (
            SELECT c.Person_ID, min(c.CareContDate) AS idx FROM MHS201CareContact c JOIN MHS202CareActivity a USING (UniqCareContID)
            WHERE a.Procedure = '{DBT_PROCEDURE}' AND c.AttendOrDNACode IN {_in(ATTENDED)} GROUP BY c.Person_ID)
        SELECT Person_ID, idx, CAST(idx - INTERVAL 12 MONTH AS DATE) AS b0, CAST(idx + INTERVAL 12 MONTH AS DATE) AS a1,
               idx - 365 AS b0d, idx + 365 AS a1d FROM first"""
    )
    result: dict = {}
    for label, b0, a1 in (("calendar_months", "b0", "a1"), ("days_365", "b0d", "a1d")):
        el = f"p.{a1} <= DATE '2024-04-01'"
        sa = con.execute(
            f"""SELECT count(*) FILTER (WHERE r.EventDate >= p.{b0} AND r.EventDate < p.idx), count(*) FILTER (WHERE r.EventDate >= p.idx AND r.EventDate < p.{a1})
            FROM dbt p JOIN RiskEvents r USING (Person_ID) WHERE r.EventType = 'suicide_attempt' AND {el}"""
        ).fetchone()
        ae = con.execute(
            f"""SELECT count(*) FILTER (WHERE e.Arrival_Date >= p.{b0} AND e.Arrival_Date < p.idx), count(*) FILTER (WHERE e.Arrival_Date >= p.idx AND e.Arrival_Date < p.{a1})
            FROM dbt p JOIN ECDS e USING (Person_ID) WHERE {el}"""
        ).fetchone()
        bd = con.execute(
            f"""SELECT coalesce(sum(greatest(0, date_diff('day', greatest(w.StartDateWardStay, p.{b0}), least(coalesce(w.EndDateWardStay, DATE '2024-04-01'), p.idx)))), 0),
                       coalesce(sum(greatest(0, date_diff('day', greatest(w.StartDateWardStay, p.idx), least(coalesce(w.EndDateWardStay, DATE '2024-04-01'), p.{a1})))), 0)
            FROM dbt p JOIN MHS502WardStay w USING (Person_ID) WHERE {el}"""
        ).fetchone()
        n = con.execute(f"SELECT count(*) FILTER (WHERE {el}), count(*) FILTER (WHERE NOT ({el})) FROM dbt p").fetchone()
        result[label] = {
            "people_with_dbt": int(n[0] + n[1]),
            "eligible": int(n[0]),
            "excluded_without_full_follow_up": int(n[1]),
            "suicide_attempts": {"before": int(sa[0]), "after": int(sa[1])},
            "ae_attendances": {"before": int(ae[0]), "after": int(ae[1])},
            "bed_days": {"before": int(bd[0]), "after": int(bd[1])},
        }
    rng = con.execute("SELECT min(idx), max(idx) FILTER (WHERE a1 <= DATE '2024-04-01'), min(idx) FILTER (WHERE a1 > DATE '2024-04-01'), max(idx) FROM dbt").fetchone()
    result["index_dates"] = {"eligible_first": str(rng[0]), "eligible_last": str(rng[1]), "excluded_first": str(rng[2]), "excluded_last": str(rng[3])}
    return result
