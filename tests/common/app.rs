//! Driving the app with egui_kittest: the harness, waiting for its jobs, typing.

use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use promo_studio::app::{PromoStudioApp, theme};

pub fn harness(app: PromoStudioApp) -> Harness<'static, PromoStudioApp> {
    Harness::builder()
        .with_size([1360.0, 860.0])
        // The bundled fonts only: the same glyphs (and missing-glyph panics) on every machine.
        .with_context_setup(theme::apply_bundled_only)
        .build_ui_state(|ui, app: &mut PromoStudioApp| app.show(ui), app)
}

/// Steps frames until every background job has finished (and the flow has
/// started none), failing after five minutes: a hang, not a slow machine
/// (twelve tests each run the whole flow, on two cores shared with anything else).
pub fn wait_for_jobs(h: &mut Harness<'static, PromoStudioApp>) {
    let started = Instant::now();
    h.step();
    while h.state().is_working() {
        assert!(started.elapsed() < Duration::from_secs(300), "jobs still running after five minutes");
        std::thread::sleep(Duration::from_millis(10));
        h.step();
    }
    h.step();
    h.step();
}

/// Types `text` into the text field named `label`.
pub fn type_into(h: &mut Harness<'static, PromoStudioApp>, label: &str, text: &str) {
    let field = h.get_by_role_and_label(Role::TextInput, label);
    field.focus();
    field.set_text_value_accesskit(text);
    h.run_steps(2);
}
