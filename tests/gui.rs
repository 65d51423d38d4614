//! The desktop app driven through its widgets with egui_kittest: the real app
//! state, real background jobs on the bundled sample, clicks by label.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use promo_studio::app::{Level, PromoStudioApp};

mod common;

use common::app::{harness, type_into, wait_for_jobs};
use promo_studio::core::stages::campaigns::{Calibration, Forecasting, Planning};
use promo_studio::core::stages::recommendations::{CustomerLookup, Recommendations};
use promo_studio::core::stages::segments::{KScan, Segments};

fn sample_app() -> Harness<'static, PromoStudioApp> {
    let mut h = harness(PromoStudioApp::restore(None));
    wait_for_jobs(&mut h);
    let app = h.state();
    assert!(app.dataset().is_some(), "the sample loads by itself");
    assert!(
        app.flow.get::<Segments>().is_some()
            && app.flow.get::<Recommendations>().is_some()
            && app.flow.get::<CustomerLookup>().is_some(),
        "the flow runs on by itself"
    );
    h
}

/// Types into the screen's one text field (the path on Data, the customer id on Recommendations).
fn type_into_the_field(h: &mut Harness<'static, PromoStudioApp>, text: &str) {
    let field = h.get_by_role(Role::TextInput);
    field.focus();
    field.set_text_value_accesskit(text);
    h.run_steps(2);
}

fn segment_names(h: &Harness<'static, PromoStudioApp>) -> Vec<String> {
    h.state().flow.get::<Segments>().unwrap().segments.iter().filter(|s| s.id >= 0).map(|s| s.name.clone()).collect()
}

#[test]
fn segments_run_and_show_named_profiles_and_a_legend_that_follows_k() {
    let mut h = sample_app();
    h.get_by_label("Segments").click();
    h.run_steps(2);
    assert!(h.query_by_label_contains("Segment profiles").is_some());

    let before = h.state().flow.get::<Segments>().cloned().unwrap();
    h.get_by_label("▶ Run segmentation").click();
    wait_for_jobs(&mut h);
    assert!(!std::sync::Arc::ptr_eq(&before, h.state().flow.get::<Segments>().unwrap()), "Run made a new segmentation");
    let names = segment_names(&h);
    assert_eq!(names.len(), 5, "the default k");
    for name in &names {
        // Once in the profile table, once in the scatter's legend.
        assert!(h.query_all_by_label(name).count() >= 2, "{name} in the table and the legend");
    }

    // k = 3 through the slider, then Run: three names, the legend follows.
    h.get_by_role_and_label(Role::Slider, "k (segments)").set_value_accesskit(3.0);
    h.run_steps(2);
    assert_eq!(h.state().flow.choices.of::<Segments>().k, 3);
    assert!(h.query_by_label_contains("Settings changed since these segments were made").is_some());
    h.get_by_label("▶ Run segmentation").click();
    wait_for_jobs(&mut h);
    let three = segment_names(&h);
    assert_eq!(three.len(), 3);
    for name in &three {
        assert!(h.query_all_by_label(name).count() >= 2, "{name} in the table and the legend");
    }
    for gone in names.iter().filter(|n| !three.contains(n)) {
        assert_eq!(h.query_all_by_label(gone).count(), 0, "{gone} left the legend");
    }
}

#[test]
fn choosing_k_charts_the_scores_and_applies_the_suggestion() {
    let mut h = sample_app();
    h.get_by_label("Segments").click();
    h.run_steps(2);
    // k = 12 first: outside the scanned 2..10, so "Use k" must change it.
    h.get_by_role_and_label(Role::Slider, "k (segments)").set_value_accesskit(12.0);
    h.run_steps(2);
    h.get_by_label("Scan").click();
    wait_for_jobs(&mut h);
    let suggested = h.state().flow.get::<KScan>().expect("the scan finished").suggested_k;
    assert!((2..=10).contains(&suggested));
    assert!(h.query_by_label_contains(&format!("Suggested: k = {suggested}")).is_some());
    assert!(h.query_by_label_contains("Silhouettes on 2,740 customers").is_some(), "the chart's caption");
    // Below the charts, outside the visible part of the settings column: activate it as a screen reader would.
    h.get_by_label(&format!("Use k = {suggested}")).click_accesskit();
    wait_for_jobs(&mut h);
    assert_eq!(h.state().flow.choices.of::<Segments>().k, suggested);
    assert_eq!(segment_names(&h).len(), suggested);
}

#[test]
fn a_customer_search_shows_k_products_with_reasons() {
    let mut h = sample_app();
    h.get_by_label("Recommendations").click();
    h.run_steps(2);
    assert!(h.query_by_label_contains("Precision@10").is_some(), "the model comparison is on screen");
    let id = h.state().flow.get::<Recommendations>().unwrap().recommender.interactions.customers[7].clone();
    type_into_the_field(&mut h, &id);
    h.get_by_label("Show").click();
    wait_for_jobs(&mut h);
    let view = h.state().flow.get::<CustomerLookup>().cloned().expect("a customer view");
    assert_eq!(view.customer_id, id);
    assert_eq!(view.recommended.len(), 10);
    assert!(h.query_by_label_contains(&format!("Customer {id} bought")).is_some());
    for r in &view.recommended {
        // Two products may share a reason ("bought together with X by 72 customers").
        assert!(h.query_all_by_label(&r.reason).next().is_some(), "reason shown: {}", r.reason);
    }
    assert!(h.query_by_label_contains("products already bought are excluded").is_some());

    // The toggle lets bought products back in, and says so.
    h.get_by_label("Exclude products already bought").click();
    wait_for_jobs(&mut h);
    assert!(h.state().flow.get::<CustomerLookup>().unwrap().include_bought);
    assert!(h.query_by_label_contains("products already bought may appear").is_some());
}

#[test]
fn a_running_job_can_be_cancelled_and_the_data_stays() {
    let mut h = sample_app();
    let before = h.state().dataset().cloned().unwrap();
    h.get_by_label("Load").click();
    h.step();
    assert!(!h.state().jobs.is_idle(), "loading");
    h.step();
    assert!(h.query_by_label_contains("Loading events.parquet").is_some(), "the status bar names the job");
    h.get_by_label("Cancel").click();
    h.step();
    wait_for_jobs(&mut h);
    let app = h.state();
    assert!(std::sync::Arc::ptr_eq(&before, app.dataset().unwrap()), "the cancelled load replaced nothing");
    assert!(app.flow.get::<Segments>().is_some(), "nor what was made from the data");
    assert!(app.notices.iter().any(|n| n.text == "Cancelled"));
}

#[test]
fn a_bad_file_shows_its_error_and_the_previous_data_stays() {
    let mut h = sample_app();
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("orders.csv");
    std::fs::write(&bad, "who,when\nx,yesterday\n").unwrap();
    let customers = h.state().dataset().unwrap().features.customers();

    type_into_the_field(&mut h, bad.to_str().unwrap());
    h.get_by_label("Load").click();
    wait_for_jobs(&mut h);

    let app = h.state();
    let error = app.notices.iter().rev().find(|n| n.level == Level::Error).expect("an error notice");
    assert!(error.text.contains("orders.csv") && error.text.contains("customer_id"), "{}", error.text);
    assert!(error.text.contains("still in use"));
    assert_eq!(app.dataset().unwrap().features.customers(), customers);
    assert!(
        h.query_all_by_label_contains("required column 'customer_id' not found").count() >= 1,
        "the error is on screen"
    );
    assert!(h.query_all_by_label_contains("In the app: press Preview").count() >= 1, "with the app's way to fix it");
}

#[test]
fn data_screen_previews_a_file_and_its_mapping() {
    let mut h = sample_app();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shop.csv");
    std::fs::write(&file, "Client,Date,Product,Qty,Price\nA1,2024-03-01,P1,2,3.5\nA2,2024-03-02,P2,1,9\n").unwrap();
    type_into_the_field(&mut h, file.to_str().unwrap());
    h.get_by_label("Preview").click();
    wait_for_jobs(&mut h);
    assert!(h.state().preview.is_some());
    h.run(); // settles and checks the mapping widgets have accessible names
    assert!(h.query_by_label("→ customer_id").is_some(), "Client feeds customer_id");
    assert!(h.query_by_label("A1").is_some(), "first rows shown");
    assert_eq!(h.state().view.mapping_edit.get("price").map(String::as_str), Some("Price"));
    // The analyst sets price to "(not used)": the file's Price column must stay out.
    h.state_mut().view.mapping_edit.insert("price".into(), String::new());
    h.run();
    h.get_by_label("Load with this mapping").click();
    wait_for_jobs(&mut h);
    let app = h.state();
    let dataset = app.dataset().unwrap();
    assert_eq!(dataset.features.customers(), 2);
    assert!(!dataset.mapping.contains_key(&promo_studio::core::import::Canonical::Price), "{:?}", dataset.mapping);
    assert_eq!(dataset.mapping.get(&promo_studio::core::import::Canonical::Quantity).map(String::as_str), Some("Qty"));
    assert!(app.settings.last_file.as_deref() == Some(file.as_path()), "the last file is remembered");
    let remembered = |name: &str| app.settings.mapping.iter().find(|(c, _)| c == name).map(|(_, f)| f.as_str());
    assert_eq!(remembered("price"), Some(""), "(not used) is remembered for the next start");
    assert_eq!(remembered("quantity"), Some("Qty"));
}

#[test]
fn settings_survive_a_restart_and_a_broken_state_is_reported() {
    let mut h = sample_app();
    h.get_by_label("Segments").click();
    h.run_steps(2);
    h.get_by_role_and_label(Role::Slider, "k (segments)").set_value_accesskit(4.0);
    h.run_steps(2);
    let saved = h.state().saved_settings();

    let again = PromoStudioApp::restore(Some(&saved));
    assert_eq!(again.flow.choices.of::<Segments>().k, 4);
    assert_eq!(again.settings.screen, "Segments");

    let broken = PromoStudioApp::restore(Some("{ this is not json"));
    assert_eq!(broken.settings, Default::default());
    assert!(broken.notices.iter().any(|n| n.level == Level::Warning && n.text.contains("could not be read")));
}

#[test]
fn every_screen_names_its_widgets_for_screen_readers() {
    let mut h = sample_app();
    // Each click must really show its screen (a label only it has), then `run`
    // settles the frame and checks that every widget has an accessible name.
    for (screen, only_there) in [
        ("Data", "What the file holds"),
        ("Segments", "Segment profiles"),
        ("Recommendations", "Precision@10"),
        ("Promotions", "Assignment preview"),
        ("Simulation", "Press “Run simulation”"),
    ] {
        h.get_by_role_and_label(Role::Button, screen).click();
        h.run();
        assert!(h.query_by_label_contains(only_there).is_some(), "{screen} is on screen");
    }
    h.get_by_role_and_label(Role::Button, "Data").click();
    h.run();
    h.get_by_label("Customer features").click();
    h.run();
    assert!(h.query_by_label_contains("Click a column title to sort").is_some(), "the feature table");
    assert!(h.query_by_label("customer_id ▲").is_some(), "its sortable header");
    let first = h.state().dataset().unwrap().feature_rows.customer_ids[0].clone();
    assert!(h.query_by_label(&first).is_some(), "its first row, customer {first}");
    h.get_by_label("Events").click();
    h.run();
    assert!(h.query_by_label("Time (UTC)").is_some(), "the events table");
}

#[test]
fn the_file_dialog_never_blocks_a_frame() {
    let mut h = sample_app();
    h.get_by_label("Browse…").click();
    let started = Instant::now();
    h.step();
    // The dialog runs on its own thread; the frame that opened it returned at
    // once, with the dialog still open (its answer is collected next frame).
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(h.state().is_dialog_open(), "the dialog is open after the frame returned");
    // Without a desktop portal the dialog answers "nothing chosen"; the button comes back.
    while h.state().is_dialog_open() {
        assert!(started.elapsed() < Duration::from_secs(30), "the dialog never closed");
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
    assert!(h.state().dataset().is_some());
}

#[test]
fn the_segment_list_exports_to_csv() {
    let mut h = sample_app();
    h.get_by_role_and_label(Role::Button, "Segments").click();
    h.run_steps(2);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("segments.csv");
    type_into_the_field(&mut h, out.to_str().unwrap());
    h.get_by_label("Export CSV").click();
    wait_for_jobs(&mut h);
    let text = std::fs::read_to_string(&out).expect("the export was written");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("customer_id,segment,segment_name"));
    assert_eq!(lines.count(), h.state().dataset().unwrap().features.customers());
    assert!(h.state().notices.iter().any(|n| n.text.starts_with("Wrote 3,000 customers")));
}

#[test]
fn a_chinese_shop_export_in_gbk_loads_as_it_is_and_shows_its_names() {
    let mut h = sample_app();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("订单.csv");
    let text = "客户编号,订单日期,商品,数量,单价,类目\nA1,2024-03-01,P1,2,3.5,女装\nA2,2024-03-02,P2,1,9,数码\n";
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable);
    std::fs::write(&file, &bytes).unwrap();
    type_into_the_field(&mut h, file.to_str().unwrap());
    h.get_by_label("Load").click();
    wait_for_jobs(&mut h);
    let app = h.state();
    let dataset = app.dataset().unwrap();
    assert_eq!(dataset.features.customers(), 2, "{:?}", app.notices.last().map(|n| &n.text));
    assert_eq!(dataset.report.encoding.as_deref(), Some("GBK (detected)"));
    assert!(h.query_by_label_contains("GBK (detected)").is_some(), "the encoding is said");
    // The quality report names the events too: open the features, then the events tab.
    h.get_by_label("Customer features").click();
    h.run();
    h.get_by_label("Events").click();
    h.run();
    assert!(h.query_by_label("女装").is_some(), "the Chinese category is shown as written");
}

#[test]
fn a_gaussian_mixture_gives_segments_with_membership() {
    let mut h = sample_app();
    h.get_by_role_and_label(Role::Button, "Segments").click();
    h.run_steps(2);
    h.get_by_label("Gaussian mixture").click();
    h.run_steps(2);
    assert!(h.state().flow.is_stale::<Segments>(), "the k-means result is stale once the method changes");
    assert!(h.query_by_label_contains("Settings changed since these segments were made").is_some());
    h.get_by_label("▶ Run segmentation").click();
    wait_for_jobs(&mut h);
    let segments = h.state().flow.get::<Segments>().unwrap().clone();
    assert!(segments.membership.is_some(), "membership per buyer");
    assert!(!h.state().flow.is_stale::<Segments>());
    assert!(h.query_by_label_contains("of buyers belong to their segment with probability").is_some());
    assert!(h.state().flow.get::<Recommendations>().is_some(), "the recommender ran again on the new segments");
}

#[test]
fn the_bundled_shops_past_campaign_is_calibrated_at_start_up() {
    let mut h = sample_app();
    let evidence = h.state().flow.get::<Calibration>().cloned().expect("calibrated after the load");
    let evidence = evidence.as_ref().as_ref().expect("the bundled shop has a past campaign");
    assert_eq!(evidence.response.arms.len(), 4);
    h.get_by_label("Past campaign").click();
    h.run_steps(3);
    for arm in ["10% off", "Spend 50 save 10", "Free shipping", "control (no offer)"] {
        // In the table, and (the arms) in the uplift chart's legend.
        assert!(h.query_all_by_label(arm).next().is_some(), "{arm} is listed");
    }
    // Each arm's lift with its interval, as the core computed it.
    let a = &evidence.response.observed.arms[0];
    let [lo, hi] = a.lift_conversion_ci95;
    let shown = format!("{:+.1} pts  [{:+.1}, {:+.1}]", a.lift_conversion * 100.0, lo * 100.0, hi * 100.0);
    assert!(h.query_by_label(&shown).is_some(), "{shown}");
    assert!(h.query_by_label_contains("200 posterior draws").is_some());
}

#[test]
fn the_simulation_runs_from_its_button_and_shows_intervals() {
    let mut h = sample_app();
    h.get_by_label("Simulation").click();
    h.run_steps(2);
    assert!(h.query_by_label_contains("Press “Run simulation”").is_some());
    h.get_by_role_and_label(Role::Slider, "runs").set_value_accesskit(200.0);
    h.run_steps(2);
    h.get_by_label("Run simulation").click();
    wait_for_jobs(&mut h);
    let outlook = h.state().flow.get::<Forecasting>().cloned().expect("simulated");
    assert_eq!(outlook.outlook.forecast.runs(), 200);
    // The bundled shop re-runs its past campaign's offers on the calibrated arms.
    assert!(outlook.response.contains("calibrated"), "{}", outlook.response);
    for part in ["return on cost", "Incremental profit over the runs", "Per offer", "The holdout as an A/B test"] {
        assert!(h.query_by_label_contains(part).is_some(), "{part}");
    }
    let s = outlook
        .outlook
        .forecast
        .overall()
        .spread(promo_studio::core::campaign::simulate::metrics::metric("incremental_profit"));
    assert!(s.p5 < s.mean && s.mean < s.p95);
    let tile =
        format!("90%: {} to {}", promo_studio::core::format::money(s.p5), promo_studio::core::format::money(s.p95));
    assert!(h.query_by_label_contains(&tile).is_some(), "{tile}");

    // Pin it, change the discount on the Promotions screen (20% off instead
    // of 10%), run again, and read the two side by side.
    h.get_by_label("Pin this result").click();
    h.run_steps(2);
    h.get_by_role_and_label(Role::Button, "Promotions").click();
    h.run_steps(2);
    h.query_all_by_label("10% off").next().expect("the offer in the list").click();
    h.run_steps(2);
    h.get_by_role_and_label(Role::SpinButton, "Offer value").set_value_accesskit(20.0);
    wait_for_jobs(&mut h);
    assert_eq!(h.state().draft.campaign().offers[0].value, Some(20.0));
    h.get_by_role_and_label(Role::Button, "Simulation").click();
    h.run_steps(2);
    h.get_by_label("Run simulation").click();
    wait_for_jobs(&mut h);
    let deeper = h.state().flow.get::<Forecasting>().cloned().expect("simulated again");
    assert_eq!(deeper.campaign.offers[0].value, Some(20.0), "the edited campaign is the one simulated");
    assert!(h.query_by_label("Scenarios side by side").is_some());
    assert!(h.query_by_label_contains("Pinned: ").is_some() && h.query_by_label_contains("Current: ").is_some());
    assert!(h.query_by_label_contains("beats the pinned one on incremental profit in").is_some());
}

fn promotions(h: &mut Harness<'static, PromoStudioApp>) {
    h.get_by_role_and_label(Role::Button, "Promotions").click();
    wait_for_jobs(h);
    assert!(h.state().flow.get::<Planning>().is_some_and(|p| p.plan.is_some()), "the bundled campaign is planned");
}

fn eligible_label(h: &Harness<'static, PromoStudioApp>) -> String {
    let preview = h.state().flow.get::<Planning>().cloned().unwrap();
    let i = h.state().view.selected_offer;
    let shown = format!(
        "Eligible: {} of {} customers",
        promo_studio::core::format::count(preview.eligible[i] as f64),
        promo_studio::core::format::count(preview.customers as f64)
    );
    assert!(h.query_by_label(&shown).is_some(), "{shown} is on screen");
    shown
}

#[test]
fn a_new_offer_restricted_to_a_segment_counts_fewer_customers_and_bad_values_are_marked() {
    let mut h = sample_app();
    promotions(&mut h);

    // A customer search says what someone gets and why, with the products the message would show.
    let preview = h.state().flow.get::<Planning>().cloned().unwrap();
    let plan = preview.plan.as_ref().unwrap();
    let i = plan.group.iter().position(|g| *g == promo_studio::core::campaign::plan::Group::Treated).unwrap();
    let id = plan.customers.ids[i].clone();
    type_into(&mut h, "Customer to explain", &id);
    // The search is at the foot of the screen: scrolled to, as a person would.
    h.get_by_label("Explain").scroll_to_me();
    h.run();
    h.get_by_label("Explain").click();
    wait_for_jobs(&mut h);
    assert!(h.query_by_label(&format!("Customer {id} gets the offer.")).is_some(), "{id}");
    let names: Vec<&str> = plan.campaign.offers.iter().map(|o| o.name.as_str()).collect();
    let why = promo_studio::core::campaign::assign::explain(&plan.candidates, &plan.assignment, i, &names);
    assert!(h.query_by_label(&why.sentence).is_some(), "{}", why.sentence);
    let chosen = names[plan.candidates.candidates()[plan.assignment.chosen[i].unwrap()].offer as usize];
    assert!(h.query_by_label(&format!("▶ {chosen}")).is_some(), "the chosen offer is marked");
    assert!(h.query_by_label("Products the message would show:").is_some());
    let view = h.state().flow.get::<CustomerLookup>().cloned().unwrap();
    assert_eq!(view.customer_id, id);
    let first = &view.recommended[0];
    let line = format!("• {} ({}) — {}", first.product.name, first.product.item_id, first.reason);
    assert!(h.query_by_label(&line).is_some(), "{line}");

    h.get_by_label("Add offer").scroll_to_me();
    h.run();
    h.get_by_label("Add offer").click();
    wait_for_jobs(&mut h);
    let campaign = h.state().draft.campaign().clone();
    assert_eq!(campaign.offers.last().unwrap().name, "New offer");
    assert_eq!(h.state().view.selected_offer, campaign.offers.len() - 1, "the new offer is open in the editor");
    assert_eq!(eligible_label(&h), "Eligible: 3,000 of 3,000 customers");

    // Restrict it to one segment: the planner counts again in the background.
    let segments = h.state().flow.get::<Segments>().cloned().unwrap();
    let first = segments.segments.iter().find(|s| s.id >= 0).unwrap();
    // The segments' row comes first (an RFM group may have the same name).
    h.query_all_by_role_and_label(Role::CheckBox, &first.name).next().unwrap().scroll_to_me();
    h.run();
    h.query_all_by_role_and_label(Role::CheckBox, &first.name).next().unwrap().click();
    wait_for_jobs(&mut h);
    let offer = h.state().draft.campaign().offers.last().unwrap().clone();
    assert_eq!(offer.eligible.unwrap().segments, vec![first.name.clone()]);
    let members = segments.assignment.iter().filter(|&&a| a == first.id).count();
    let shown = eligible_label(&h);
    assert!(
        members < 3000
            && shown.starts_with(&format!("Eligible: {} of", promo_studio::core::format::count(members as f64))),
        "{shown}"
    );

    // A value the core refuses is marked at its field with the core's words, and nothing is planned.
    h.get_by_role_and_label(Role::SpinButton, "Holdout").set_value_accesskit(1.5);
    wait_for_jobs(&mut h);
    let message = "must be between 0 and 1 (exclusive of 1), got 1.5";
    assert!(h.query_by_label(&format!("⚠ {message}")).is_some(), "the message under the field");
    assert!(h.state().flow.get::<Planning>().unwrap().plan.is_none());
    // Undo puts the holdout back, and the plan returns.
    h.get_by_label("Undo").click();
    wait_for_jobs(&mut h);
    assert_eq!(h.state().draft.campaign().holdout, 0.1);
    assert!(h.query_by_label(&format!("⚠ {message}")).is_none());
    assert!(h.state().flow.get::<Planning>().unwrap().plan.is_some());
}

#[test]
fn a_binding_budget_fills_its_bar_and_a_crash_restart_keeps_the_edit() {
    let dir = tempfile::tempdir().unwrap();
    let autosave = dir.path().join(promo_studio::app::AUTOSAVE_FILE);
    let mut app = PromoStudioApp::restore(None);
    app.autosave_to(autosave.clone());
    let mut h = harness(app);
    wait_for_jobs(&mut h);
    promotions(&mut h);
    let before = h.state().flow.get::<Planning>().unwrap().summary.clone().unwrap();
    assert!(before.expected_cost <= before.budget.unwrap() && before.targeted > 0);

    h.get_by_role_and_label(Role::SpinButton, "Budget").set_value_accesskit(20.0);
    wait_for_jobs(&mut h);
    let after = h.state().flow.get::<Planning>().unwrap().summary.clone().unwrap();
    assert_eq!(after.budget, Some(20.0));
    assert!(after.targeted < before.targeted, "{} then {}", before.targeted, after.targeted);
    assert!(after.expected_cost > 0.97 * 20.0 && after.expected_cost <= 20.0 + 1e-9, "{}", after.expected_cost);
    let bar = format!(
        "Budget: {} of {} used ({})",
        promo_studio::core::format::money(after.expected_cost),
        promo_studio::core::format::money(20.0),
        promo_studio::core::format::percent(after.expected_cost / 20.0)
    );
    assert!(h.query_by_label(&bar).is_some(), "{bar}");

    // The process dies without saving anything; the next start finds the edit.
    drop(h);
    let mut again = PromoStudioApp::restore(None);
    again.autosave_to(autosave);
    assert_eq!(again.draft.campaign().budget, Some(20.0));
    assert!(again.notices.iter().any(|n| n.text.starts_with("Restored")));
}

#[test]
fn the_plan_exports_with_pseudonymised_ids() {
    let mut h = sample_app();
    promotions(&mut h);
    h.get_by_role_and_label(Role::Button, "Simulation").click();
    h.run_steps(2);
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.bin");
    std::fs::write(&key, b"a key of at least sixteen bytes").unwrap();
    let mut columns = Vec::new();
    for name in ["plan.csv", "again.csv"] {
        let out = dir.path().join(name);
        type_into(&mut h, "Plan file", out.to_str().unwrap());
        type_into(&mut h, "Pseudonymisation key file", key.to_str().unwrap());
        h.get_by_label("Export plan, ids pseudonymised").click();
        wait_for_jobs(&mut h);
        let text = std::fs::read_to_string(&out).expect("the plan was written");
        let ids: Vec<String> = text.lines().skip(1).map(|l| l.split(',').next().unwrap().to_string()).collect();
        columns.push(ids);
        assert!(text.starts_with("customer_id,"), "{:?}", text.lines().next());
    }
    let originals = &h.state().dataset().unwrap().feature_rows.customer_ids;
    assert_eq!(columns[0].len(), originals.len());
    assert!(columns[0].iter().all(|id| !originals.contains(id)), "no original id is left");
    assert_eq!(columns[0], columns[1], "the same key gives the same pseudonyms");
    assert!(h.state().notices.iter().any(|n| n.text.contains("customer ids pseudonymised")));
}

#[test]
fn bundles_from_baskets_are_shown_and_proposed_to_a_bundle_offer() {
    use promo_studio::core::stages::bundles::OftenBoughtTogether;
    let mut h = sample_app();
    let rules = h.state().flow.get::<OftenBoughtTogether>().cloned().expect("the baskets are mined after a load");
    let top = &rules.top;
    assert_eq!(
        top[..],
        rules.bundles.top_bundles(12).into_iter().map(|(s, r)| (s.clone(), r.clone())).collect::<Vec<_>>()[..]
    );
    assert!(!top.is_empty(), "the sample's orders hold bundles at the default minimums");
    let best = &top[0].0;

    // Recommendations: the strongest bundle, by name, under "Often bought together".
    h.get_by_role_and_label(Role::Button, "Recommendations").click();
    h.run();
    let label = rules.label(&best.items);
    h.get_by_label(&label).scroll_to_me();
    h.run();
    assert_eq!(h.query_all_by_label("Often bought together").count(), 2, "its settings and its table");

    // Promotions: a new offer made a bundle gets its products from a proposal, as one undoable edit.
    promotions(&mut h);
    h.get_by_label("Add offer").scroll_to_me();
    h.run();
    h.get_by_label("Add offer").click();
    wait_for_jobs(&mut h);
    h.get_by_label("Offer kind").click();
    h.run();
    h.get_by_label("Bundle").click();
    wait_for_jobs(&mut h);
    assert!(h.query_by_label("none chosen yet").is_some());
    h.get_by_label("Propose a bundle").scroll_to_me();
    h.run();
    h.get_by_label("Propose a bundle").click();
    h.run();
    let proposal = format!(
        "{}  ({} orders, lift {:.1}×)",
        label,
        promo_studio::core::format::count(best.baskets as f64),
        top[0].1.lift
    );
    h.get_by_label(&proposal).click();
    wait_for_jobs(&mut h);
    let offer = h.state().draft.campaign().offers.last().unwrap().clone();
    assert_eq!(offer.products, Some(rules.ids(&best.items)));
    assert!(h.query_by_label(&label).is_some(), "the chosen products are named in the editor");
    h.get_by_label("Undo").click();
    wait_for_jobs(&mut h);
    assert_eq!(h.state().draft.campaign().offers.last().unwrap().products, None);
}

/// A build without the cluster engine offers the choice disabled: a click
/// leaves the app computing here.
#[cfg(not(feature = "cluster"))]
#[test]
fn without_the_cluster_engine_the_cluster_choice_is_disabled() {
    let mut h = sample_app();
    assert!(h.query_by_label("This computer").is_some());
    h.get_by_label("Cluster").click();
    h.run_steps(2);
    assert!(!h.state().settings.cluster.on, "a disabled choice does not switch");
    assert!(h.query_by_label("Scheduler").is_none(), "no scheduler address without a cluster");
}
