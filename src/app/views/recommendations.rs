//! The Recommendations screen: choose a model, compare every model by the
//! DATA.md §4 protocol, look up a customer's history and top-N with reasons,
//! see what each segment would be offered, and what is often bought together.

use egui_extras::{Column, TableBuilder};

use super::super::widgets::{empty_state, screen_title, section, settings_panel, stale_note, swatch};
use super::super::{Command, PromoStudioApp, theme};
use super::ScreenDecl;
use crate::core::format;
use crate::core::pipeline::{Stage, StageKey};
use crate::core::recommend::ModelKind;
use crate::core::stages::bundles::OftenBoughtTogether;
use crate::core::stages::recommendations::{
    CustomerLookup, CustomerView, ModelComparison, PROTOCOL, RecommendationLab, Recommendations,
};
use crate::core::stages::segments::Segments;

fn model_title(kind: ModelKind) -> &'static str {
    match kind {
        ModelKind::Popularity => "Popularity (top sellers)",
        ModelKind::ItemKnn => "Item-kNN (bought together)",
        ModelKind::UserKnn => "User-kNN (similar customers)",
        ModelKind::Content => "Content (similar products)",
        ModelKind::Hybrid => "Hybrid (item-kNN + content)",
        ModelKind::Rp3beta => "RP3beta (bought together, recent first)",
    }
}

pub const SCREEN: ScreenDecl = ScreenDecl {
    title: "Recommendations",
    busy_with: &[Recommendations::NAME, ModelComparison::NAME, CustomerLookup::NAME, OftenBoughtTogether::NAME],
    summary: |app| app.flow.get::<Recommendations>().map(|l| l.recommender.settings.kind.name().to_string()),
    show,
    on_result,
    on_demand: None,
};

/// A new model: keep the customer the user chose if this data has them, else
/// show its example customer (the lookup runs next, with that id).
fn on_result(app: &mut PromoStudioApp, stage: StageKey, _: f64) {
    if stage != StageKey::of::<Recommendations>() {
        return;
    }
    let chosen = app.flow.choices.of::<Recommendations>().customer_id;
    let known = app.dataset().is_some_and(|d| d.feature_rows.row_of(chosen.trim()).is_some());
    let example = app.flow.get::<Recommendations>().and_then(|lab| lab.example_customer.clone());
    if !known && let Some(id) = example {
        app.flow.choices.of_mut::<Recommendations>().customer_id = id;
    }
}

fn show(app: &mut PromoStudioApp, ui: &mut egui::Ui) {
    settings_panel(ui, "recommend-settings", |ui| model_settings(app, ui));
    theme::central_panel(ui).show(ui, |ui| {
        screen_title(
            ui,
            "Recommendations",
            "Which products to put in front of whom, how well each model predicts real purchases, and why.",
        );
        if app.dataset().is_none() {
            empty_state(ui, "Load data on the Data screen first.");
            return;
        }
        // Each part shows as soon as its own job is done: on a large shop the
        // comparison and the bundles need not wait for the model's fit.
        let lab = app.flow.get::<Recommendations>().cloned();
        egui::ScrollArea::vertical().id_salt("recommend-results").show(ui, |ui| {
            evaluation_table(app, ui);
            match &lab {
                Some(lab) => {
                    customer_lookup(app, ui, lab);
                    segment_products(ui, lab);
                }
                None => {
                    section(ui, "A customer's recommendations");
                    ui.weak(if app.is_running::<Recommendations>() {
                        "Fitting the model…"
                    } else {
                        "Press Fit on the left."
                    });
                }
            }
            often_bought_together(app, ui);
        });
    });
}

fn model_settings(app: &mut PromoStudioApp, ui: &mut egui::Ui) {
    let has_data = app.dataset().is_some();
    let has_segments = app.flow.get::<Segments>().is_some();
    let c = app.flow.choices.of_mut::<Recommendations>();
    section(ui, "Model");
    egui::ComboBox::from_id_salt("model")
        .selected_text(model_title(c.model))
        .width(240.0)
        .show_ui(ui, |ui| {
            for kind in ModelKind::ALL {
                ui.selectable_value(&mut c.model, kind, model_title(kind));
            }
        })
        .response
        .accessible_name("Model");
    ui.add(egui::Slider::new(&mut c.k, 1..=50).text("products each"));
    if matches!(c.model, ModelKind::ItemKnn | ModelKind::UserKnn | ModelKind::Hybrid) {
        ui.add(egui::Slider::new(&mut c.neighbours, 5..=200).text("neighbours"));
    }
    if c.model == ModelKind::Hybrid {
        ui.add(egui::Slider::new(&mut c.hybrid_item_knn_weight, 0.0..=1.0).text("share of item-kNN"));
    }
    if matches!(c.model, ModelKind::ItemKnn | ModelKind::Hybrid) {
        section(ui, "Browsing signals");
        ui.weak("Weight of views and carts next to purchases (0 = purchases only).");
        ui.add(egui::Slider::new(&mut c.view_weight, 0.0..=1.0).text("views"));
        ui.add(egui::Slider::new(&mut c.cart_weight, 0.0..=1.0).text("carts"));
    }
    ui.add_space(theme::SPACE);
    ui.horizontal(|ui| {
        if ui
            .add_enabled(has_data, egui::Button::new(egui::RichText::new("▶ Fit").strong()))
            .on_hover_text("Fit on every customer's purchases")
            .clicked()
        {
            app.push(Command::run::<Recommendations>());
        }
        if ui
            .add_enabled(has_data, egui::Button::new("Compare all models"))
            .on_hover_text("Offline evaluation by the temporal hold-out protocol")
            .clicked()
        {
            app.push(Command::run::<ModelComparison>());
        }
    });
    if has_segments {
        ui.weak("With segments: Popularity recommends each segment's own top sellers.");
    }
    section(ui, "Often bought together");
    ui.weak("Bundles mined from purchase orders (FP-growth): the minimums a rule must reach.");
    let b = app.flow.choices.of_mut::<OftenBoughtTogether>();
    egui::Grid::new("bundle-settings").num_columns(2).show(ui, |ui| {
        ui.label("Support");
        ui.add(egui::DragValue::new(&mut b.min_support).speed(0.0005).range(0.0001..=1.0).max_decimals(4))
            .on_hover_text("Share of orders holding the whole bundle")
            .accessible_name("Minimum support");
        ui.end_row();
        ui.label("Confidence");
        ui.add(egui::DragValue::new(&mut b.min_confidence).speed(0.01).range(0.0..=1.0).max_decimals(2))
            .on_hover_text("Share of orders with the first products that also hold the rest")
            .accessible_name("Minimum confidence");
        ui.end_row();
        ui.label("Lift");
        ui.add(egui::DragValue::new(&mut b.min_lift).speed(0.05).range(0.0..=100.0).max_decimals(2))
            .on_hover_text("How many times likelier together than by chance")
            .accessible_name("Minimum lift");
        ui.end_row();
        ui.label("Largest bundle");
        ui.add(egui::DragValue::new(&mut b.max_len).range(2..=6).suffix(" products")).accessible_name("Largest bundle");
        ui.end_row();
    });
    if ui.add_enabled(has_data, egui::Button::new("Mine baskets")).clicked() {
        app.push(Command::run::<OftenBoughtTogether>());
    }
}

/// The strongest bundles, each with its best rule.
fn often_bought_together(app: &PromoStudioApp, ui: &mut egui::Ui) {
    section(ui, "Often bought together");
    let Some(rules) = app.flow.get::<OftenBoughtTogether>() else {
        ui.weak(if app.is_running::<OftenBoughtTogether>() {
            "Mining baskets…"
        } else {
            "Press Mine baskets on the left."
        });
        return;
    };
    let mined = &rules.bundles;
    ui.weak(format!(
        "{} orders: {} rules with support ≥ {}, confidence ≥ {} and lift ≥ {}. Support: share of orders with the \
         whole bundle; confidence: share of orders with the first products that also hold the last; lift: how many \
         times likelier than by chance.",
        format::count(mined.baskets as f64),
        format::count(mined.rules.len() as f64),
        format::percent(mined.settings.min_support),
        format::percent(mined.settings.min_confidence),
        mined.settings.min_lift
    ));
    if rules.top.is_empty() {
        ui.weak("No bundle reaches these minimums: lower the support or confidence on the left.");
        return;
    }
    egui::Grid::new("bundles").striped(true).num_columns(5).spacing([theme::SPACE_LARGE, 4.0]).show(ui, |ui| {
        for h in ["Bundle", "Orders", "Rule", "Confidence", "Lift"] {
            ui.strong(h);
        }
        ui.end_row();
        // Names are long ("PINK REGENCY TEACUP AND SAUCER"): fixed widths, cut with
        // "…" (a cut label shows its whole text on hover).
        let cell = |ui: &mut egui::Ui, text: String| {
            ui.allocate_ui(egui::vec2(270.0, theme::ROW_HEIGHT), |ui| {
                ui.set_min_width(270.0);
                ui.add(egui::Label::new(text).truncate());
            });
        };
        for (set, rule) in &rules.top {
            cell(ui, rules.label(&set.items));
            ui.label(format!("{} ({})", format::count(set.baskets as f64), format::percent(set.support)));
            cell(ui, format!("{} → {}", rules.label(&rule.antecedent), rules.label(&rule.consequent)));
            ui.label(format::percent(rule.confidence));
            ui.label(format!("{:.1}×", rule.lift));
            ui.end_row();
        }
    });
}

fn evaluation_table(app: &PromoStudioApp, ui: &mut egui::Ui) {
    section(ui, "How well each model predicts later purchases");
    let Some(evaluations) = app.flow.get::<ModelComparison>() else {
        ui.weak(if app.is_running::<ModelComparison>() { "Evaluating…" } else { "Press “Compare all models”." });
        return;
    };
    let best = evaluations.iter().map(|e| e.precision).fold(0.0, f64::max);
    egui::Grid::new("evaluation").num_columns(7).striped(true).spacing([theme::SPACE_LARGE, 4.0]).show(ui, |ui| {
        let k = evaluations.first().map_or(0, |e| e.k);
        let titles = [
            ("Model".to_string(), "The recommender"),
            (format!("Precision@{k}"), "Held-out products among the top k, divided by k"),
            (format!("Recall@{k}"), "Held-out products among the top k, divided by the number held out"),
            (format!("NDCG@{k}"), "Like recall, but hits near the top count more"),
            (format!("Hit rate@{k}"), "Customers with at least one held-out product in their top k"),
            (
                "Catalogue coverage".to_string(),
                "Distinct products recommended to anyone ÷ distinct products in the training purchases; \
                 above 100% when a model also recommends products nobody bought in training",
            ),
            ("Customers".to_string(), "Customers with a held-out product, over whom the metrics are averaged"),
        ];
        for (title, meaning) in titles {
            ui.strong(title).on_hover_text(meaning);
        }
        ui.end_row();
        for e in evaluations.iter() {
            let text = egui::RichText::new(&e.model);
            ui.label(if e.precision == best { text.strong().color(theme::GOOD) } else { text });
            ui.label(format!("{:.4}", e.precision));
            ui.label(format!("{:.4}", e.recall));
            ui.label(format!("{:.4}", e.ndcg));
            ui.label(format::percent(e.hit_rate));
            ui.label(format::percent(e.coverage));
            ui.label(format::count(e.evaluated_customers as f64));
            ui.end_row();
        }
    });
    ui.weak(PROTOCOL);
}

fn customer_lookup(app: &mut PromoStudioApp, ui: &mut egui::Ui, lab: &RecommendationLab) {
    section(ui, "A customer's recommendations");
    stale_note(ui, app.flow.is_stale::<Recommendations>(), "recommendations");
    ui.horizontal(|ui| {
        ui.label("Customer id");
        let edit = ui
            .add(
                egui::TextEdit::singleline(&mut app.flow.choices.of_mut::<Recommendations>().customer_id)
                    .desired_width(160.0)
                    .hint_text("e.g. C00042"),
            )
            .accessible_name("Customer id");
        let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if ui.button("Show").clicked() || enter {
            app.push(Command::run::<CustomerLookup>());
        }
        let mut exclude = !app.flow.choices.of::<Recommendations>().include_bought;
        if ui.checkbox(&mut exclude, "Exclude products already bought").changed() {
            app.flow.choices.of_mut::<Recommendations>().include_bought = !exclude;
            app.push(Command::run::<CustomerLookup>());
        }
    });
    let Some(view) = app.flow.get::<CustomerLookup>().cloned() else { return };
    customer_view(ui, &view, lab);
}

fn product_name(name: &str, name_zh: Option<&str>) -> String {
    match name_zh {
        Some(zh) if !zh.is_empty() => format!("{name}  ·  {zh}"),
        _ => name.to_string(),
    }
}

fn customer_view(ui: &mut egui::Ui, view: &CustomerView, lab: &RecommendationLab) {
    let heading = if !view.known {
        format!("Customer {} is not in the data: these are the most popular products.", view.customer_id)
    } else if view.bought.is_empty() {
        format!("Customer {} has not bought anything yet: popular products.", view.customer_id)
    } else {
        format!("Customer {} bought {} products.", view.customer_id, view.bought.len())
    };
    ui.label(heading);
    ui.weak(format!(
        "{} by {}; {}.",
        if view.recommended.len() == lab.k {
            format!("Top {}", lab.k)
        } else {
            format!("{} products", view.recommended.len())
        },
        view.model.name(),
        if view.include_bought { "products already bought may appear" } else { "products already bought are excluded" }
    ));
    let right = egui::Layout::right_to_left(egui::Align::Center);
    ui.push_id("recommended", |ui| {
        TableBuilder::new(ui)
            .striped(true)
            .vscroll(false)
            .column(Column::exact(28.0))
            .column(Column::remainder().at_least(320.0).clip(true))
            .column(Column::exact(130.0).clip(true))
            .column(Column::exact(64.0))
            .header(theme::ROW_HEIGHT + 4.0, |mut h| {
                for t in ["#", "Product, and why", "Category", "Score"] {
                    h.col(|ui| {
                        ui.strong(t);
                    });
                }
            })
            .body(|mut body| {
                for (rank, r) in view.recommended.iter().enumerate() {
                    body.row(2.0 * theme::ROW_HEIGHT + 2.0, |mut row| {
                        row.col(|ui| {
                            ui.label(format!("{}", rank + 1));
                        });
                        row.col(|ui| {
                            ui.vertical(|ui| {
                                ui.label(product_name(&r.product.name, r.product.name_zh.as_deref()))
                                    .on_hover_text(format!("item {}", r.product.item_id));
                                ui.weak(&r.reason).on_hover_text(&r.reason);
                            });
                        });
                        row.col(|ui| {
                            ui.label(&r.product.category);
                        });
                        row.col(|ui| {
                            ui.with_layout(right, |ui| ui.label(format!("{:.3}", r.score)));
                        });
                    });
                }
            });
    });
    if !view.bought.is_empty() {
        egui::CollapsingHeader::new(format!("Purchase history ({} products)", view.bought.len()))
            .id_salt("history")
            .show(ui, |ui| {
                egui::Grid::new("history-grid").num_columns(2).striped(true).show(ui, |ui| {
                    for p in &view.bought {
                        ui.label(product_name(&p.name, p.name_zh.as_deref()));
                        ui.weak(&p.category);
                        ui.end_row();
                    }
                });
            });
    }
}

fn segment_products(ui: &mut egui::Ui, lab: &RecommendationLab) {
    section(ui, "What each segment would be offered");
    if lab.segment_products.is_empty() {
        ui.weak("Run a segmentation to see each segment's most recommended products.");
        return;
    }
    ui.weak("The products most often in members' top lists, with the share of members who get each.");
    let rec = &lab.recommender;
    ui.horizontal_wrapped(|ui| {
        for seg in &lab.segment_products {
            egui::Frame::group(ui.style()).show(ui, |ui| {
                ui.set_width(280.0);
                ui.vertical(|ui| {
                    ui.horizontal(|ui| {
                        swatch(ui, theme::segment_colour(seg.segment));
                        ui.strong(&seg.name);
                        ui.weak(format!("{} customers", format::count(seg.members as f64)));
                    });
                    for (rank, &(item, _, share)) in seg.items.iter().take(5).enumerate() {
                        let p = crate::core::stages::recommendations::product(rec, item);
                        ui.horizontal(|ui| {
                            ui.label(format!("{}.", rank + 1));
                            ui.add(egui::Label::new(product_name(&p.name, p.name_zh.as_deref())).truncate());
                        });
                        ui.weak(format!("      {} of members", format::percent(share)));
                    }
                });
            });
        }
    });
}
