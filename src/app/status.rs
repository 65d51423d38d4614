//! The status bar (dataset, running job with progress and Cancel, last
//! notice) and the toasts that show new notices for a few seconds.

use std::time::{Duration, Instant};

use super::{PromoStudioApp, theme};
use crate::core::format;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Warning,
    Error,
}

#[derive(Clone, Debug)]
pub struct Notice {
    pub level: Level,
    pub text: String,
    pub at: Instant,
    pub dismissed: bool,
}

impl Notice {
    pub fn new(level: Level, text: String) -> Notice {
        Notice { level, text, at: Instant::now(), dismissed: false }
    }

    fn colour(&self, ui: &egui::Ui) -> egui::Color32 {
        match self.level {
            Level::Info => ui.visuals().text_color(),
            Level::Warning => theme::WARNING,
            Level::Error => theme::ERROR,
        }
    }
}

/// Errors stay until dismissed; other notices fade after this long.
const TOAST_SECONDS: u64 = 6;

pub fn status_bar(app: &mut PromoStudioApp, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        match app.dataset() {
            Some(d) => {
                let name = format::file_name(&d.path);
                ui.label(format!(
                    "{name} · {} events · {} customers",
                    format::count(d.report.rows_usable as f64),
                    format::count(d.features.customers() as f64)
                ));
            }
            None => {
                ui.weak("No data loaded");
            }
        }
        ui.separator();
        let running: Vec<(crate::jobs::JobKey, String, crate::jobs::JobStatus)> =
            app.jobs.running().iter().map(|j| (j.key, j.label.clone(), j.status())).collect();
        match running.first().cloned() {
            Some((kind, label, status)) => {
                let bar = egui::ProgressBar::new(status.fraction.unwrap_or(0.0))
                    .desired_width(240.0)
                    .text(status.phrase.clone());
                ui.label(label);
                ui.add(bar);
                if ui.button("Cancel").on_hover_text("Stop this job; the results on screen stay").clicked() {
                    app.push(super::Command::Cancel(kind));
                }
                if running.len() > 1 {
                    ui.weak(format!("+{} more", running.len() - 1));
                }
            }
            None => {
                ui.weak("Ready");
            }
        }
        if let Some(last) = app.notices.last() {
            ui.separator();
            let first_line = last.text.lines().next().unwrap_or_default().to_string();
            ui.add(egui::Label::new(egui::RichText::new(first_line).color(last.colour(ui))).truncate())
                .on_hover_text(&last.text);
        }
    });
}

/// New notices in the top-right corner; errors until dismissed.
pub fn toasts(app: &mut PromoStudioApp, ctx: &egui::Context) {
    let now = Instant::now();
    let visible: Vec<usize> = app
        .notices
        .iter()
        .enumerate()
        // Information stays in the status bar; warnings pop up for a while, errors until dismissed.
        .filter(|(_, n)| {
            !n.dismissed
                && (n.level == Level::Error
                    || (n.level == Level::Warning && now.duration_since(n.at) < Duration::from_secs(TOAST_SECONDS)))
        })
        .map(|(i, _)| i)
        .rev()
        .take(3)
        .collect();
    if visible.is_empty() {
        return;
    }
    egui::Area::new(egui::Id::unique("toasts"))
        .anchor(egui::Align2::RIGHT_BOTTOM, egui::vec2(-theme::SPACE_LARGE, -40.0))
        .order(egui::Order::Foreground)
        .show(ctx, |ui| {
            ui.set_max_width(440.0);
            for i in visible {
                let notice = app.notices[i].clone();
                let colour = notice.colour(ui);
                egui::Frame::popup(ui.style()).stroke(egui::Stroke::new(1.0, colour)).show(ui, |ui| {
                    let title = match notice.level {
                        Level::Info => "Done",
                        Level::Warning => "Warning",
                        Level::Error => "Error",
                    };
                    ui.colored_label(colour, egui::RichText::new(title).strong());
                    // Wrapped within the toast's width: a long message must not run off the window.
                    ui.add(egui::Label::new(&notice.text).wrap());
                    if ui.small_button("Dismiss").clicked() {
                        app.notices[i].dismissed = true;
                    }
                });
            }
        });
    ctx.request_repaint_after(Duration::from_secs(1));
}
