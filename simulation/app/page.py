"""The Solara page: Mesa's SolaraViz building blocks (its ModelController for step/play/pause/
reset and its ModelCreator for the model's controls, the model rebuilt from them on Reset)
around the secmig dashboard (map, headline numbers, charts).

The page puts Mesa's parts together itself rather than calling ``SolaraViz``: Mesa 3.3's
SolaraViz always adds a "Render Interval" slider and a "Use Threads" checkbox (no argument hides
them), which mean nothing to a class (one Step is one simulated year; the model runs in the
server either way). Its "Play Interval" slider is kept, as *Play speed*, in plain words.

Served by ``secmig app`` (see serve.py); ``solara run simulation.app.page`` works too.
``SECMIG_APP_WORLD=toy`` starts in the toy country.
"""

from __future__ import annotations

import os
from html import escape
from typing import Any

import solara
from mesa.visualization.solara_viz import ModelController, ModelCreator
from mesa.visualization.utils import update_counter

from simulation.app import views
from simulation.app.teaching_model import NORWAY, TOY, WORLDS, TeachingModel
from simulation.inputs.parameters import calibrated

TAB_TITLE = "secmig: teaching app"
# Vuetify hides a slider's value unless it is being dragged; students need to see it
SHOW_SLIDER_VALUES = (".v-slider__thumb-label-container{display:block !important}"
                      ".v-input__slider{margin-top:20px}")
# the dashboard's layout, for a projector: map on the left (48 %), the four charts in a 2x2
# grid on the right; the SVGs scale with their cell (drawn about 1:1 on a 1500 px window).
# On a big screen the width is capped so that the map still fits the window's height.
# When the dashboard is narrower than 900 px (small window, sidebar open) the charts go
# below the map; below 520 px they stack in one column.
DASHBOARD_CSS = (
    ".secmig-dashboard{container:secmig/inline-size}"
    ".secmig-body{display:grid;grid-template-columns:minmax(0,12fr) minmax(0,13fr);gap:20px;"
    "align-items:start;max-width:max(900px,calc((100vh - 290px)*1.57))}"
    ".secmig-charts{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:14px 16px}"
    ".secmig-body svg{display:block;width:100%;height:auto}"
    "@container secmig (max-width:900px){.secmig-body{grid-template-columns:minmax(0,1fr)}"
    ".secmig-map{max-width:620px;margin:0 auto}}"
    "@container secmig (max-width:520px){.secmig-charts{grid-template-columns:minmax(0,1fr)}}")
PLAY_INTERVAL_MS = 400  # one simulated year per 0.4 s when playing: slow enough to watch
APP_TITLE = "secmig: refugees' secondary migration"
# the "run finished" notice sits in the headline row, beside the numbers (below them in a
# narrow window), so it takes no height away from the map
FINISHED_CSS = (".run-finished{flex:1 1 300px;background:#fff4e5;border-left:5px solid #e65100;"
                "padding:6px 12px;font-size:14px;line-height:1.35;color:#3e2000}"
                ".secmig-run .v-input__slider{margin-bottom:4px}")


def start_world() -> str:
    """The world the app opens with (``secmig app --toy`` sets the variable)."""
    return TOY if os.environ.get("SECMIG_APP_WORLD", "").lower() == "toy" else NORWAY


def model_params() -> dict[str, Any]:
    """The lesson's controls, in SolaraViz's format; values start at the calibrated model."""
    cal = calibrated()
    return {
        "world": {"type": "Select", "value": start_world(), "values": list(WORLDS),
                  "label": "World"},
        "network_strength": {"type": "SliderFloat", "value": round(cal.dest_network_effect, 2),
                             "min": 0.0, "max": 2.0, "step": 0.1,
                             "label": "Network strength (co-ethnic pull)"},
        "rights_years": {"type": "SliderInt", "value": int(cal.rights_years), "min": 0,
                         "max": 10, "step": 1, "label": "Rights years (tied to settlement place)"},
        "job_exemption": {"type": "Checkbox", "value": bool(cal.job_move_exemption),
                          "label": "Job exemption (a move to a job keeps rights)"},
        "exclude_below": {"type": "SliderInt", "value": 0, "min": 0, "max": 20_000,
                          "step": 1000, "label": "No settlement below population"},
        "volume_percent": {"type": "SliderInt", "value": 100, "min": 25, "max": 200,
                           "step": 25, "label": "Yearly settlement volume (% of normal)"},
        "seed": {"type": "SliderInt", "value": 1, "min": 1, "max": 100, "step": 1,
                 "label": "Seed"},
    }


def initial_model() -> TeachingModel:
    """A model with the controls' starting values (what Reset would build)."""
    return TeachingModel(**{k: v["value"] for k, v in model_params().items()})


measure = solara.reactive(views.NET)  # the map's colour (per browser session)
fixed_scale = solara.reactive(False)  # the map's fixed colour scale (per browser session)


def finished_html(model: TeachingModel) -> str:
    """The notice shown once the run has simulated its last year (empty while it runs)."""
    if model.running:
        return ""
    return (f'<div class="run-finished" role="status"><b>Run finished</b> (last year '
            f'{model.inputs.end}). <b>Step</b> and ▶ are off: press <b>Reset</b> for a new run, '
            f'after changing controls (e.g. the seed) if you like.</div>')


def _headline_html(model: TeachingModel) -> str:
    cells = "".join(
        f'<div class="kpi" data-key="{escape(k)}" style="margin-right:36px">'
        f'<div style="font-size:14px;color:#555">{escape(k)}</div>'
        f'<div class="kpi-value" style="font-size:28px;font-weight:500;line-height:1.25">'
        f'{escape(v)}</div></div>'
        for k, v in views.headline(model).items())
    c = model.controls
    rules = (f"network strength {c['network strength']:.1f} · rights {c['rights years']} years"
             f" · job exemption {'on' if c['job exemption'] else 'off'} · no settlement below "
             f"{c['exclude below']:,} inhabitants · volume {c['volume %']} % · seed {c['seed']}")
    return (f'<div class="headline" style="display:flex;flex-wrap:wrap;align-items:center">'
            f'{cells}{finished_html(model)}</div>'
            f'<div class="rules" style="font-size:14px;color:#444;margin-top:6px">'
            f'{escape(model.world_name)}, {model.inputs.start}-{model.inputs.end}. '
            f'This run: {escape(rules)}. Changed a control? Press <b>Reset</b> to start a new '
            f'run with it, then <b>Step</b> or ▶.</div>')


@solara.component
def Dashboard(model: TeachingModel) -> None:  # noqa: N802 (Solara components are CamelCase)
    """Headline numbers on top, the map on the left, the four charts (2x2) on the right;
    redrawn after every step."""
    update_counter.get()  # SolaraViz bumps this after each step
    with solara.Column(style={"padding": "0 16px 8px"}, classes=["secmig-dashboard"]):
        solara.HTML(tag="div", unsafe_innerHTML=_headline_html(model))
        with solara.Div(classes=["secmig-body"]):
            with solara.Div():
                with solara.Row(style={"align-items": "center", "gap": "16px"}):
                    solara.Select("Colour the map by", values=list(views.MEASURES),
                                  value=measure)
                    solara.Checkbox(label="Fixed colour scale",
                                    value=fixed_scale)
                solara.HTML(tag="div", unsafe_innerHTML=views.map_svg(model, measure.value,
                                                                      fixed_scale.value))
                solara.Text("Hover over a circle for the municipality and its numbers.",
                            style={"font-size": "14px", "color": "#555"})
            with solara.Div(classes=["secmig-charts"]):
                for draw in (views.retention_svg, views.concentration_svg, views.split_svg,
                             views.moves_svg):
                    solara.HTML(tag="div", unsafe_innerHTML=draw(model))


@solara.component
def Page() -> None:  # noqa: N802
    """One model per browser session; Mesa's ModelController replaces it on Reset."""
    model = solara.use_memo(lambda: solara.reactive(initial_model()), [])
    # shared by ModelCreator (writes the controls' values) and ModelController (Reset builds
    # ``TeachingModel(**values)``), as in SolaraViz
    parameters = solara.use_reactive({})
    play_interval = solara.use_reactive(PLAY_INTERVAL_MS)
    # the dashboard first: the app bar and sidebar draw nothing here, and after the dashboard
    # their empty slots add no space above it
    Dashboard(model.value)
    solara.Title(TAB_TITLE)
    solara.Style(SHOW_SLIDER_VALUES + DASHBOARD_CSS + FINISHED_CSS)
    with solara.AppBar():
        solara.AppBarTitle(APP_TITLE)
    with solara.Sidebar(), solara.Column():
        with solara.Card("Run", classes=["secmig-run"]):
            solara.SliderInt(label="Play speed (ms per year)",
                             value=play_interval, min=100, max=2000, step=100)
            ModelController(model, model_parameters=parameters, play_interval=play_interval,
                            render_interval=solara.use_reactive(1),
                            use_threads=solara.use_reactive(False))
            solara.Text("Step: one year. ▶ plays year after year. Reset: a new run with the "
                        "controls below.", style={"font-size": "13px", "color": "#555"})
        with solara.Card("Model Parameters"):
            solara.Text("A changed control takes effect at the next Reset.",
                        style={"font-size": "13px", "color": "#555"})
            ModelCreator(model, model_params(), model_parameters=parameters)
