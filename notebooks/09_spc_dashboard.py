# %% [markdown]
# # Monitoring: Making Data Count charts of every measure
#
# Each measure of the catalogue as an XmR statistical process control chart, the way NHS boards
# read integrated performance reports (NHS England, Making Data Count): the mean, process limits
# at the mean plus or minus 2.66 times the mean moving range (moving ranges of 3.267 times the mean
# or more left out), and special causes where a point lies outside the limits, 7 points in a row
# lie on one side of the mean, 7 points rise or fall in a row, or 2 of 3 points lie beyond two
# thirds of the way to a limit on one side. Limits are recomputed from go-live (a rebase): the
# question is whether the process has changed since the programme started. Blue points are
# improvement, orange concern, grey common cause (purple: a change in a measure where neither
# direction is better). The variation icon reads the latest month; the assurance icon says whether
# the latest limits put the target always within reach (P), never (F) or by chance (?). Which way
# is better, and any target, are declared with the measures (`outcomes/measures/monitoring.yaml`);
# a report's `--params` file can set a target per measure (`targets:`); without one a measure shows
# "no target".
# Counts of 1-7 are suppressed and others rounded to 5 before anything is computed: suppressed
# months are gaps, and the limits come from the other months.

# %% tags=["parameters"]
# 09_spc_dashboard: None takes the runner's default (outcomes.notebook.start);
# `outcomes report` injects the report's values after this cell
extract = period_end = go_live = footprint = providers = targets = output_dir = None

# %%
from outcomes import notebook

run = notebook.start("09_spc_dashboard", globals())  # every None above becomes the runner's default

# %%
import matplotlib.pyplot as plt
from IPython.display import HTML, display

from outcomes.figures import plots
from outcomes.report import paragraphs
from outcomes.spc.measures import DASHBOARD_TABLE, board_dashboard, catalogue_spc, chart_anchor, dashboard_html

plots.use_house_style()
data = run.extract  # opened once, cut to period_end: nothing after the period is seen
measures = run.measures
frames = {name: measure.to_pandas(data) for name, measure in measures.items()}
rebase_at = run.programme.go_live  # SPC limits are rebased at the go-live
charts = catalogue_spc(measures, frames, rebase=[rebase_at], strict=False, extract=data)  # rare events: quarters or t-charts

# %% [markdown]
# ## The board's view: the latest month of every measure

# %%
dashboard = board_dashboard(charts)
shown = run.record_table(DASHBOARD_TABLE, dashboard, keep=list(dashboard.columns),
                         caption=f"Latest month of every measure with its variation and assurance (limits since {rebase_at})")
display(HTML(dashboard_html(shown)))
display(run.paragraph(paragraphs.attention, DASHBOARD_TABLE))

# %% [markdown]
# ## The charts

# %%
for name, spc in charts.items():
    for group, problem in spc.problems.items():
        display(HTML(f'<h3 id="{chart_anchor(spc.label(group))}">{spc.heading(group)}</h3><p>Not charted: {problem}</p>'))
    for group in spc.charts:
        anchor, heading = chart_anchor(spc.label(group)), spc.heading(group)
        display(HTML(f'<h3 id="{anchor}">{heading}</h3><p>{spc.description}</p>'))
        ax = spc.plot(group)
        run.record_figure(anchor, ax.figure, caption=f"SPC chart of {heading}, {spc.unit_of(group)}")
        plt.show()
