//! Small widgets the screens share.

use super::theme;

/// A screen's title with a one-line explanation under it.
pub fn screen_title(ui: &mut egui::Ui, title: &str, subtitle: &str) {
    ui.heading(title);
    ui.weak(subtitle);
    ui.add_space(theme::SPACE);
}

/// A section heading inside a screen.
pub fn section(ui: &mut egui::Ui, title: &str) {
    ui.add_space(theme::SPACE);
    ui.label(egui::RichText::new(title).strong().size(theme::BODY_SIZE + 1.5));
}

/// A figure with its caption, as on a dashboard tile.
pub fn stat(ui: &mut egui::Ui, value: &str, caption: &str) {
    egui::Frame::group(ui.style()).inner_margin(egui::Margin::symmetric(12, 8)).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.vertical(|ui| {
            ui.label(egui::RichText::new(value).size(theme::HEADING_SIZE).strong());
            ui.weak(caption);
        });
    });
}

/// What an empty result area says, and what to do about it.
pub fn empty_state(ui: &mut egui::Ui, message: &str) {
    ui.add_space(theme::SPACE_LARGE * 2.0);
    ui.vertical_centered(|ui| {
        ui.weak(message);
    });
}

/// A settings column on the left of a screen, scrolled if tall.
pub fn settings_panel(ui: &mut egui::Ui, id: &str, add: impl FnOnce(&mut egui::Ui)) {
    egui::Panel::left(id.to_string())
        .frame(theme::side_panel_frame(ui))
        .exact_size(theme::SETTINGS_WIDTH)
        .resizable(false)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().id_salt(id).show(ui, |ui| {
                ui.add_space(theme::SPACE);
                add(ui);
            });
        });
}

/// A coloured square for legends and tables.
pub fn swatch(ui: &mut egui::Ui, colour: egui::Color32) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(12.0, 12.0), egui::Sense::hover());
    ui.painter().rect_filled(rect, 2.0, colour);
}

/// A stale result (settings changed since it was made) says so.
pub fn stale_note(ui: &mut egui::Ui, stale: bool, what: &str) {
    if stale {
        ui.colored_label(
            theme::WARNING,
            format!("⚠ Settings changed since these {what} were made. Run again to update."),
        );
    }
}

/// The names of a horizontal bar chart's rows on its y axis: row i (from the
/// top) sits at y = n − 1 − i, and only whole rows are labelled.
pub fn row_names(names: Vec<String>) -> impl Fn(egui_plot::GridMark, &std::ops::RangeInclusive<f64>) -> String {
    let n = names.len();
    move |mark, _| {
        let i = mark.value.round();
        if (mark.value - i).abs() > 1e-6 || i < 0.0 || i as usize >= n {
            return String::new();
        }
        names.get(n - 1 - i as usize).cloned().unwrap_or_default()
    }
}
