//! One file per screen; `navigation` is the left bar that switches between them.

pub mod data;
pub mod recommendations;
pub mod segments;

use super::settings::Screen;
use super::{PromoStudioApp, theme};
use crate::core::format;
use crate::jobs::JobKind;

/// The left bar: screens in flow order, each with what it holds now.
pub fn navigation(app: &mut PromoStudioApp, ui: &mut egui::Ui) {
    ui.add_space(theme::SPACE_LARGE);
    ui.label(egui::RichText::new("Promo Studio").size(theme::HEADING_SIZE).strong());
    ui.add_space(theme::SPACE_LARGE);
    for screen in Screen::ALL {
        let (busy, detail) = match screen {
            Screen::Data => (
                app.jobs.is_running(JobKind::Load) || app.jobs.is_running(JobKind::Preview),
                app.dataset.as_ref().map(|d| format!("{} customers", format::count(d.features.customers() as f64))),
            ),
            Screen::Segments => (
                app.jobs.is_running(JobKind::Segment) || app.jobs.is_running(JobKind::ScanK),
                app.segments.as_ref().map(|s| format!("{} segments", s.segments.len())),
            ),
            Screen::Recommendations => (
                app.jobs.is_running(JobKind::Recommend) || app.jobs.is_running(JobKind::Evaluate),
                app.lab.as_ref().map(|l| l.recommender.settings.kind.name().to_string()),
            ),
        };
        let selected = app.settings.screen == screen;
        let text = egui::RichText::new(screen.title()).size(theme::BODY_SIZE + 1.5);
        let response =
            ui.add_sized([theme::NAV_WIDTH - 2.0 * theme::SPACE, 30.0], egui::Button::selectable(selected, text));
        if response.clicked() {
            app.settings.screen = screen;
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
