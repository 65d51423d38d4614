//! One file per screen, each declaring itself as a [`ScreenDecl`];
//! [`SCREENS`] lists them in flow order, and `navigation` is the left bar
//! that switches between them.

pub mod data;
pub mod evidence;
pub mod promotions;
pub mod recommendations;
pub mod segments;
pub mod simulation;

use super::{PromoStudioApp, theme};
use crate::core::pipeline::StageKey;
use crate::jobs::JobKey;

/// A screen as the app knows it: everything it needs beside its drawing.
pub struct ScreenDecl {
    pub title: &'static str,
    /// The jobs (stages and tasks) whose results it shows: "working…" while one runs.
    pub busy_with: &'static [JobKey],
    /// What it holds now, under its name in the navigation ("5 segments").
    pub summary: fn(&PromoStudioApp) -> Option<String>,
    pub show: fn(&mut PromoStudioApp, &mut egui::Ui),
    /// Called when any stage's new result is kept, with the job's seconds:
    /// notices, and choices that depend on the new data.
    pub on_result: fn(&mut PromoStudioApp, StageKey, f64),
    /// For a screenshot once the flow has settled: whether the work a person
    /// would ask for on the screen (a simulation is run by a button) is
    /// done; if not, it is started.
    pub on_demand: Option<fn(&mut PromoStudioApp) -> bool>,
}

/// The screens in flow order: the one place a new screen is listed.
pub const SCREENS: [&ScreenDecl; 6] = [
    &data::SCREEN,
    &segments::SCREEN,
    &recommendations::SCREEN,
    &evidence::SCREEN,
    &promotions::SCREEN,
    &simulation::SCREEN,
];

/// The screens' titles, for `--screen`.
pub fn screen_titles() -> Vec<&'static str> {
    SCREENS.iter().map(|s| s.title).collect()
}

/// The screen the settings name (the first when they name none that exists).
pub fn current(app: &PromoStudioApp) -> &'static ScreenDecl {
    SCREENS.iter().find(|s| s.title.eq_ignore_ascii_case(&app.settings.screen)).copied().unwrap_or(SCREENS[0])
}

/// The left bar: screens in flow order, each with what it holds now.
pub fn navigation(app: &mut PromoStudioApp, ui: &mut egui::Ui) {
    ui.add_space(theme::SPACE_LARGE);
    ui.label(egui::RichText::new("Promo Studio").size(theme::HEADING_SIZE).strong());
    ui.add_space(theme::SPACE_LARGE);
    let shown = current(app).title;
    for screen in SCREENS {
        let busy = screen.busy_with.iter().any(|k| app.jobs.is_running(k));
        let detail = (screen.summary)(app);
        let selected = shown == screen.title;
        let text = egui::RichText::new(screen.title).size(theme::BODY_SIZE + 1.5);
        let response =
            ui.add_sized([theme::NAV_WIDTH - 2.0 * theme::SPACE, 30.0], egui::Button::selectable(selected, text));
        if response.clicked() {
            app.settings.screen = screen.title.to_string();
        }
        ui.horizontal(|ui| {
            ui.add_space(theme::SPACE);
            if busy {
                // Text, not a spinner: an animation redraws every frame and takes CPU from the job.
                ui.weak("working…");
            } else if let Some(detail) = detail {
                ui.weak(detail);
            }
        });
        ui.add_space(theme::SPACE);
    }
    ui.with_layout(egui::Layout::bottom_up(egui::Align::LEFT), |ui| {
        ui.add_space(theme::SPACE);
        // Follows the system unless the user picks one (saved with the window state).
        let mut preference = ui.ctx().options(|o| o.theme_preference);
        let name = |p: egui::ThemePreference| match p {
            egui::ThemePreference::System => "System",
            egui::ThemePreference::Light => "Light",
            egui::ThemePreference::Dark => "Dark",
        };
        egui::ComboBox::from_label("Theme").selected_text(name(preference)).width(90.0).show_ui(ui, |ui| {
            for p in [egui::ThemePreference::System, egui::ThemePreference::Light, egui::ThemePreference::Dark] {
                ui.selectable_value(&mut preference, p, name(p));
            }
        });
        if preference != ui.ctx().options(|o| o.theme_preference) {
            ui.ctx().set_theme(preference);
        }
    });
}
