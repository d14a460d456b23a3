# %% [markdown]
# # Published figures, reproduced
#
# Each figure the collaborative published, beside the value this toolkit reproduces from the
# extract, the definition used, and the evidence in words: **confirmed** (the 95% CI excludes no
# change, in the published direction), **consistent, not confirmed** (the estimate points the
# published way but the CI includes no change; the smallest change this design would detect 80% of
# the time is given), **contradicted** (the CI excludes no change the other way), or, for exact
# counts, **matches** (said in words when disclosure control withholds the value). No row is graded
# on a point estimate alone (see `published/camhs_tier4_collaborative.yaml` for the figures, their
# source and tolerances). Reproduced counts pass disclosure control (1-7 redacted, others rounded to
# 5); the comparison with the published figure is made on the exact values. Where the A&E data source
# changes at the go-live (HES A&E, then ECDS), a single series is refused and the A&E claim is graded
# on the controlled ITS of notebook 04 (footprint residents against CYP living elsewhere, who change
# source in the same month); its row's definition says so.

# %% tags=["parameters"]
# 06_published_figures: None takes the runner's default (outcomes.notebook.start);
# `outcomes report` injects the report's values after this cell
extract = period_end = go_live = transition_months = footprint = providers = output_dir = None

# %%
from outcomes import notebook

run = notebook.start("06_published_figures", globals())  # every None above becomes the runner's default

# %%
import pandas as pd
from IPython.display import Markdown, display

from outcomes.cohort import dbt_cohort, picu_episodes
from outcomes.programme.published_figures import published_figures, reproduce_published
from outcomes.programme.synthetic import beside_its, has_area_statistics
from outcomes.report import paragraphs

data = run.extract  # opened once, cut to period_end: nothing after the period is seen
published = published_figures()
display(Markdown(f"Published figures: {published.attrs['source']}."))
comparison = reproduce_published(data, published, programme=run.programme, measures=run.measures,
                                 footprint=footprint, providers=providers)

# %%
# a figure these data cannot reproduce (a small collaborative, no comparison area) says why
for name, row in comparison.iterrows():
    if row["not_estimable"]:
        run.not_estimable(f"evidence_{name}", row["label"], row["not_estimable"])
        continue
    run.record(f"evidence_{name}", row["grade"], kind="estimate", label=row["label"], sentence=row["evidence"],
               evidence=row["evidence"], definition=row["definition"])
shown = comparison.drop(columns=["grade", "detectable", "not_estimable"]).reset_index()
table = run.record_table("published_vs_reproduced", shown, keep=list(shown.columns),
                         caption="Published figures beside the reproduced values, graded in words")
run.show(table, caption="Published figures beside the reproduced values, graded in words", turn=False,
         columns=["label", "published", "reproduced", "evidence", "definition"], titles={"label": "Claim"})
display(run.paragraph(paragraphs.evidence_summary, *(f"evidence_{name}" for name in comparison.index)))

# %% [markdown]
# ## Beside another design: the synthetic control
# A before/after change says nothing of what happened elsewhere. For the claims a synthetic control
# of other areas covers (bed days and out-of-area bed days, from the published area statistics;
# notebook `12_synthetic_control` shows it in full), the single-series ITS estimate at the headline
# month beside the synthetic control's at the same month and over the post year, with the placebo
# p-value. The synthetic control counts footprint residents' bed days only (the published area
# statistics are by area of residence); the ITS of bed days also counts other CYP on the network's
# wards. Left out when the extract has no area statistics.

# %%
if has_area_statistics(data):
    designs = beside_its(data, run.programme, run.measures, footprint, published)
    for name, row in designs.iterrows():
        if row["synthetic_note"]:  # too few donor areas published: said, not fitted
            run.not_estimable(f"synthetic_control_beside_its_{name}", f"{row['label']}: synthetic control",
                              row["synthetic_note"])
            continue
        run.record(f"synthetic_control_beside_its_{name}", row["synthetic_relative"], kind="percent_change",
                   unit="proportion", ci=(row["synthetic_lower"], row["synthetic_upper"]),
                   label=f"{row['label']}: synthetic control", sentence=row["synthetic_sentence"],
                   definition=f"Footprint / synthetic control of other areas - 1 in {row['synthetic_at']} "
                              f"(95% conformal interval), beside the ITS estimate {row['its_relative']:.3f} "
                              f"({row['its_lower']:.3f} to {row['its_upper']:.3f})")
    beside = run.record_table("published_claims_its_and_synthetic_control", designs.drop(columns=["synthetic_sentence", "synthetic_note"])
                              .round(3).reset_index(),
                              caption="Published claims: the single-series ITS and the synthetic control at the "
                                      "headline month (relative effects, 95% intervals)")
    run.show(beside, caption="Published claims: the single-series ITS and the synthetic control at the headline month "
                             "(relative effects, 95% intervals)", turn=False,
             columns=["label", "published", "its_at", "its_relative", "its_lower", "its_upper", "synthetic_relative",
                      "synthetic_lower", "synthetic_upper", "synthetic_post_year", "synthetic_post_year_lower",
                      "synthetic_post_year_upper", "placebo_p_value"],
             titles={"label": "Claim", "its_at": "At", "its_relative": "ITS", "synthetic_relative": "Synthetic control",
                     "synthetic_post_year": "Synthetic control, post year"})
    display(run.paragraph(paragraphs.estimates, *(f"synthetic_control_beside_its_{name}" for name in designs.index)))
