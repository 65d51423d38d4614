//! The Data screen: open a file (dialog, path or drag-and-drop), check and
//! edit the column mapping against a preview of its first rows, read the
//! quality report, and browse the events and the customer feature table.

use std::path::PathBuf;

use egui_extras::{Column, TableBuilder};

use super::super::commands::{PREVIEW, every_column};
use super::super::dialogs::DialogPurpose;
use super::super::widgets::{empty_state, screen_title, section, settings_panel, stat};
use super::super::{Command, Level, PromoStudioApp, theme};
use super::ScreenDecl;
use crate::core::format;
use crate::core::import::{Canonical, quality};
use crate::core::pipeline::{Stage, StageKey};
use crate::core::sample::bundled;
use crate::core::stages::browse::FeatureValues;
use crate::core::stages::dataset::{Dataset, FilePreview, LoadData};

pub const SCREEN: ScreenDecl = ScreenDecl {
    title: "Data",
    busy_with: &[LoadData::NAME, PREVIEW],
    summary: |app| app.dataset().map(|d| format!("{} customers", format::count(d.features.customers() as f64))),
    show,
    on_result,
    on_demand: None,
};

/// A new dataset: say what was loaded, and remember the file and its mapping.
fn on_result(app: &mut PromoStudioApp, stage: StageKey, seconds: f64) {
    if stage != StageKey::of::<LoadData>() {
        return;
    }
    let Some(dataset) = app.dataset().cloned() else { return };
    let is_sample = bundled::is_sample(&dataset.path);
    app.notify(
        Level::Info,
        format!(
            "Loaded {}: {} usable rows, {} customers in {}",
            format::file_name(&dataset.path),
            format::thousands(dataset.report.rows_usable),
            format::thousands(dataset.features.customers() as u64),
            format::seconds(seconds)
        ),
    );
    if let Err(e) = &dataset.value {
        app.notify(Level::Warning, format!("Customer value (P(alive), CLV) is not available: {e}"));
    }
    app.settings.last_file = (!is_sample).then(|| dataset.path.clone());
    app.settings.mapping = if is_sample { vec![] } else { every_column(&dataset.mapping).collect() };
    app.preview = None;
    app.view.feature_sort = None;
}

/// A file's preview arrived: show it with its proposed mapping to edit.
pub fn show_preview(app: &mut PromoStudioApp, preview: FilePreview) {
    app.view.mapping_edit = every_column(&preview.mapping).collect();
    app.preview = Some(preview);
    app.view.data_tab = DataTab::Preview;
    app.settings.screen = SCREEN.title.to_string();
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DataTab {
    #[default]
    Quality,
    Events,
    Features,
    Preview,
}

fn show(app: &mut PromoStudioApp, ui: &mut egui::Ui) {
    settings_panel(ui, "data-settings", |ui| file_settings(app, ui));
    theme::central_panel(ui).show(ui, |ui| {
        screen_title(
            ui,
            "Data",
            "Where every number starts: the events file, how it was read, and each customer's features.",
        );
        ui.horizontal(|ui| {
            let tabs = [
                (DataTab::Quality, "Quality report"),
                (DataTab::Events, "Events"),
                (DataTab::Features, "Customer features"),
                (DataTab::Preview, "File preview"),
            ];
            for (tab, title) in tabs {
                if tab == DataTab::Preview && app.preview.is_none() {
                    continue;
                }
                ui.selectable_value(&mut app.view.data_tab, tab, title);
            }
        });
        ui.separator();
        let dataset = app.dataset().cloned();
        match (app.view.data_tab, dataset) {
            (DataTab::Preview, _) if app.preview.is_some() => preview_table(app, ui),
            (_, None) => {
                empty_state(ui, "No data yet. Open a CSV, Parquet or NDJSON events file on the left, or drop one here.")
            }
            (DataTab::Quality | DataTab::Preview, Some(d)) => quality_report(ui, &d),
            (DataTab::Events, Some(d)) => events_table(ui, &d),
            (DataTab::Features, Some(d)) => features_table(app, ui, &d),
        }
    });
}

fn file_settings(app: &mut PromoStudioApp, ui: &mut egui::Ui) {
    section(ui, "Events file");
    ui.add(
        egui::TextEdit::singleline(&mut app.view.path_text)
            .hint_text("path to a .csv, .parquet or .ndjson, or a folder of .parquet")
            .desired_width(f32::INFINITY),
    )
    .accessible_name("Events file path");
    ui.horizontal(|ui| {
        // No desktop portal (e.g. a bare X server): the dialog answers None and the path field still works.
        if ui.add_enabled(!app.dialogs.is_open(), egui::Button::new("Browse…")).clicked() {
            app.open_dialog(DialogPurpose::OpenEvents, ui.ctx());
        }
        let has_path = !app.view.path_text.trim().is_empty();
        if ui
            .add_enabled(has_path, egui::Button::new("Preview"))
            .on_hover_text("Read the headers and first rows, and propose a column mapping")
            .clicked()
        {
            app.push(Command::Preview { path: PathBuf::from(app.view.path_text.trim()) });
        }
        if ui
            .add_enabled(has_path, egui::Button::new("Load"))
            .on_hover_text("Load with the mapping proposed from the headers")
            .clicked()
        {
            app.push(Command::Load { path: PathBuf::from(app.view.path_text.trim()), overrides: vec![] });
        }
    });
    encoding_choice(app, ui);
    compute_choice(app, ui);
    ui.weak("Or drop a file anywhere on the window.");
    if ui.link("Load the bundled sample shop").clicked() {
        app.view.path_text = bundled::SAMPLE_WORD.to_string();
        app.push(Command::Load { path: bundled::events_path(), overrides: vec![] });
    }
    if let Some(preview) = &app.preview {
        section(ui, "Column mapping");
        ui.weak(format!("{} · {} columns. Required columns are marked *.", preview.format, preview.headers.len()));
        let headers = preview.headers.clone();
        egui::Grid::new("mapping").num_columns(2).spacing([theme::SPACE, 4.0]).show(ui, |ui| {
            for canonical in Canonical::ALL {
                let name = canonical.name();
                ui.label(if canonical.required() { format!("{name} *") } else { name.to_string() });
                let chosen = app.view.mapping_edit.entry(name.to_string()).or_default();
                let shown = if chosen.is_empty() { "(not used)".to_string() } else { chosen.clone() };
                egui::ComboBox::from_id_salt(("map", name))
                    .selected_text(shown)
                    .width(150.0)
                    .show_ui(ui, |ui| {
                        ui.selectable_value(chosen, String::new(), "(not used)");
                        for h in &headers {
                            ui.selectable_value(chosen, h.clone(), h);
                        }
                    })
                    .response
                    .accessible_name(format!("file column for {name}"));
                ui.end_row();
            }
        });
        let missing: Vec<&str> = Canonical::ALL
            .iter()
            .filter(|c| c.required() && app.view.mapping_edit.get(c.name()).is_none_or(String::is_empty))
            .map(|c| c.name())
            .collect();
        if !missing.is_empty() {
            ui.colored_label(theme::ERROR, format!("Choose a column for: {}", missing.join(", ")));
        }
        ui.add_space(theme::SPACE);
        if ui.add_enabled(missing.is_empty(), egui::Button::new("Load with this mapping")).clicked() {
            let overrides = app.view.mapping_edit.iter().map(|(c, f)| (c.clone(), f.clone())).collect();
            app.push(Command::Load { path: preview.path.clone(), overrides });
        }
    }
    if let Some(d) = app.dataset() {
        section(ui, "Loaded");
        ui.label(bundled::shown(&d.path));
        if d.report.format.contains(" on ") {
            ui.weak(format!("{}.", d.report.format));
        }
        ui.weak(format!(
            "Read in {}. Features as of {}.",
            format::seconds(d.seconds),
            crate::core::import::parse::format_ms(d.features.as_of_ms)
        ));
        if let Some(encoding) = &d.report.encoding {
            ui.weak(format!("Text: {encoding}"));
        }
        if let Some(c) = &d.catalogue {
            ui.weak(format!("Product names from {}", c.source));
        }
    }
}

/// Where a file is read: on this computer, or on a Ballista cluster that
/// reads a Parquet file or folder every executor can reach (DATA.md §11).
fn compute_choice(app: &mut PromoStudioApp, ui: &mut egui::Ui) {
    let available = crate::core::cluster::AVAILABLE;
    let choice = &mut app.settings.cluster;
    ui.horizontal(|ui| {
        ui.label("Compute on");
        ui.selectable_value(&mut choice.on, false, "This computer");
        ui.add_enabled_ui(available, |ui| {
            ui.selectable_value(&mut choice.on, true, "Cluster").on_disabled_hover_text(
                "This build has no cluster engine: build with `cargo build --release --features cluster`",
            );
        });
    });
    if !(choice.on && available) {
        choice.on = false;
        return;
    }
    ui.horizontal(|ui| {
        ui.label("Scheduler");
        ui.add(egui::TextEdit::singleline(&mut choice.scheduler).hint_text("HOST:PORT").desired_width(150.0))
            .accessible_name("Cluster scheduler address");
    });
    match choice.engine() {
        Ok(_) => {
            ui.weak("The path above is a Parquet file or folder that every executor can read. The cluster reads and checks every row; the usable rows come back here.");
        }
        Err(e) => {
            ui.colored_label(theme::ERROR, e);
        }
    }
}

/// The encodings offered for CSV files, as (label, what the user reads).
const ENCODINGS: [(&str, &str); 10] = [
    ("", "Detect"),
    ("utf-8", "UTF-8"),
    ("utf-16le", "UTF-16 LE"),
    ("utf-16be", "UTF-16 BE"),
    ("gbk", "GBK (Simplified Chinese)"),
    ("gb18030", "GB18030"),
    ("big5", "Big5 (Traditional Chinese)"),
    ("windows-1252", "Windows-1252 (Western)"),
    ("shift_jis", "Shift_JIS"),
    ("euc-kr", "EUC-KR"),
];

/// The text encoding of CSV files: detected unless the user names one; a
/// change reads the file's preview again.
fn encoding_choice(app: &mut PromoStudioApp, ui: &mut egui::Ui) {
    let before = app.settings.encoding.clone();
    let shown = ENCODINGS.iter().find(|(label, _)| *label == before).map_or(before.as_str(), |(_, name)| name);
    ui.horizontal(|ui| {
        ui.label("Text encoding");
        egui::ComboBox::from_id_salt("encoding")
            .selected_text(shown.to_string())
            .width(170.0)
            .show_ui(ui, |ui| {
                for (label, name) in ENCODINGS {
                    ui.selectable_value(&mut app.settings.encoding, label.to_string(), name);
                }
            })
            .response
            .accessible_name("Text encoding")
            .on_hover_text("CSV only: detected from the file unless you choose one");
    });
    if app.settings.encoding != before
        && let Some(preview) = &app.preview
    {
        app.push(Command::Preview { path: preview.path.clone() });
    }
}

fn preview_table(app: &mut PromoStudioApp, ui: &mut egui::Ui) {
    let Some(preview) = &app.preview else { return };
    ui.label(format!("First {} rows of {}", preview.rows.len(), bundled::shown(&preview.path)));
    for p in &preview.problems {
        ui.colored_label(theme::ERROR, p);
    }
    // Each file column is labelled with the canonical column it feeds, live as the mapping changes.
    let feeds = |header: &str| -> Option<String> {
        app.view.mapping_edit.iter().find(|(_, f)| f.as_str() == header).map(|(c, _)| c.clone())
    };
    egui::ScrollArea::horizontal().show(ui, |ui| {
        TableBuilder::new(ui)
            .id_salt("preview")
            .striped(true)
            .columns(Column::auto().at_least(80.0).clip(true), preview.headers.len())
            .header(40.0, |mut row| {
                for h in &preview.headers {
                    row.col(|ui| {
                        ui.vertical(|ui| {
                            ui.strong(h);
                            match feeds(h) {
                                Some(c) => ui.colored_label(theme::GOOD, format!("→ {c}")),
                                None => ui.weak("not used"),
                            };
                        });
                    });
                }
            })
            .body(|mut body| {
                for r in &preview.rows {
                    body.row(theme::ROW_HEIGHT, |mut row| {
                        for cell in r {
                            row.col(|ui| {
                                ui.label(cell);
                            });
                        }
                    });
                }
            });
    });
}

fn quality_report(ui: &mut egui::Ui, d: &Dataset) {
    let r = &d.report;
    egui::ScrollArea::vertical().id_salt("quality").show(ui, |ui| {
        let optional = |v: Option<u64>| v.map_or("–".into(), |c| format::count(c as f64));
        let tiles = [
            (format::count(r.rows_read as f64), "rows read"),
            (format::count(r.rows_usable as f64), "rows usable"),
            (format::count(r.rows_unusable as f64), "rows left out"),
            (format::count(r.duplicates_removed as f64), "exact duplicates removed"),
            (optional(r.customers), "customers"),
            (optional(r.items), "items"),
            (optional(r.purchase_orders), "purchase orders"),
            (format::count(d.feature_rows.len() as f64 - d.purchasers as f64), "customers who never bought"),
        ];
        stat_rows(ui, &tiles);
        section(ui, "What the file holds");
        egui::Grid::new("quality-facts").num_columns(2).striped(true).spacing([theme::SPACE_LARGE, 4.0]).show(ui, |ui| {
                        let mut fact = |k: &str, v: String| {
                ui.label(k);
                ui.add(egui::Label::new(v).wrap());
                ui.end_row();
            };
            fact("File", format!("{} ({})", bundled::shown(std::path::Path::new(&r.file)), r.format));
            fact("Date range", format!("{} – {}", r.first_timestamp.as_deref().unwrap_or("–"), r.last_timestamp.as_deref().unwrap_or("–")));
            fact(
                "Events",
                format!(
                    "{} views · {} carts · {} purchase lines",
                    format::count(r.events.view as f64),
                    format::count(r.events.cart as f64),
                    format::count(r.events.purchase as f64)
                ),
            );
            fact("Returns (negative quantity)", format::count(r.returns as f64));
            fact("Negative prices", format::count(r.negative_prices as f64));
            fact("Zero prices", format::count(r.zero_prices as f64));
            let mapping: Vec<String> = r.mapping.iter().map(|(c, f)| if c == f { c.clone() } else { format!("{c} ← {f}") }).collect();
            fact("Column mapping", mapping.join(", "));
        });
        section(ui, "Rows left out, by reason");
        if r.unusable.is_empty() {
            ui.colored_label(theme::GOOD, "Every row was usable.");
        } else {
            egui::Grid::new("quality-reasons").num_columns(4).striped(true).spacing([theme::SPACE_LARGE, 4.0]).show(ui, |ui| {
                ui.strong("Reason");
                ui.strong("Column");
                ui.strong("Rows");
                ui.strong("Examples (file row and value)");
                ui.end_row();
                for u in &r.unusable {
                    ui.label(u.reason.describe());
                    ui.label(if u.column == u.file_column { u.column.clone() } else { format!("{} ({})", u.column, u.file_column) });
                    ui.label(format::count(u.count as f64));
                    ui.label(quality::examples_text(&u.examples));
                    ui.end_row();
                }
            });
        }
        if !r.duplicate_examples.is_empty() {
            ui.weak(format!("Duplicate rows, for example: {}", quality::join_rows(&r.duplicate_examples)));
        }
        if let Ok(v) = &d.value {
            section(ui, "Customer value model");
                        let (b, g) = (&v.bgnbd, &v.gamma_gamma);
            ui.label(format!(
                "BG/NBD r = {:.3}, α = {:.3}, a = {:.3}, b = {:.3}; Gamma-Gamma p = {:.3}, q = {:.3}, v = {:.3} — fitted on {} buyers, CLV over {} days.",
                                b.r, b.alpha, b.a, b.b, g.p, g.q, g.v, format::count(v.history.len() as f64), crate::core::stages::dataset::VALUE_HORIZON_DAYS
            ));
        }
    });
}

/// Dashboard tiles, four to a row, sharing the width.
fn stat_rows(ui: &mut egui::Ui, tiles: &[(String, &str)]) {
    for row in tiles.chunks(4) {
        ui.columns(4, |columns| {
            for (ui, (value, caption)) in columns.iter_mut().zip(row) {
                stat(ui, value, caption);
            }
        });
    }
}

fn events_table(ui: &mut egui::Ui, d: &Dataset) {
    let e = &d.event_rows;
    ui.weak(format!("{} usable events, in file order (row = line in the file's data).", format::count(e.len() as f64)));
    let right = egui::Layout::right_to_left(egui::Align::Center);
    egui::ScrollArea::horizontal().id_salt("events-h").show(ui, |ui| {
        TableBuilder::new(ui)
            .id_salt("events")
            .striped(true)
            .column(Column::exact(60.0))
            .column(Column::exact(140.0))
            .column(Column::initial(90.0).clip(true))
            .column(Column::exact(64.0))
            .column(Column::initial(110.0).clip(true))
            .column(Column::initial(80.0).clip(true))
            .column(Column::initial(120.0).clip(true))
            .column(Column::exact(40.0))
            .column(Column::exact(70.0))
            .column(Column::exact(80.0))
            .header(theme::ROW_HEIGHT + 4.0, |mut h| {
                for title in
                    ["Row", "Time (UTC)", "Customer", "Event", "Order", "Item", "Category", "Qty", "Price", "Amount"]
                {
                    h.col(|ui| {
                        ui.strong(title);
                    });
                }
            })
            .body(|body| {
                // Only the visible rows are laid out: smooth at millions of rows.
                body.rows(theme::ROW_HEIGHT, e.len(), |mut row| {
                    let i = row.index();
                    row.col(|ui| {
                        ui.label(e.file_row[i].to_string());
                    });
                    row.col(|ui| {
                        ui.label(e.time(i));
                    });
                    row.col(|ui| {
                        ui.label(e.customer.get(i));
                    });
                    row.col(|ui| {
                        ui.label(e.kind_name(i));
                    });
                    row.col(|ui| {
                        ui.label(e.order.as_ref().map_or("", |o| o.get(i)));
                    });
                    row.col(|ui| {
                        ui.label(e.item.as_ref().map_or(String::new(), |c| c.get(i)));
                    });
                    row.col(|ui| {
                        ui.label(e.category.as_ref().map_or("", |c| c.get(i)));
                    });
                    row.col(|ui| {
                        ui.with_layout(right, |ui| ui.label(format::decimal(e.quantity[i], 0)));
                    });
                    row.col(|ui| {
                        ui.with_layout(right, |ui| {
                            ui.label(e.price.as_ref().map_or(String::new(), |p| format::money(p[i])))
                        });
                    });
                    row.col(|ui| {
                        ui.with_layout(right, |ui| ui.label(format::money(e.amount[i])));
                    });
                });
            });
    });
}

/// How a feature's value reads: days, money or counts.
fn feature_text(column: &str, value: Option<f64>) -> String {
    let Some(v) = value else { return "–".to_string() };
    if column.ends_with("_days") {
        format::decimal(v, 1)
    } else if ["monetary", "avg_order_value", "total_spent"].contains(&column) || column.contains("amount") {
        format::money(v)
    } else if column.contains("rate") || column.contains("share") {
        format::percent(v)
    } else if v.fract() == 0.0 {
        format::count(v)
    } else {
        format::decimal(v, 2)
    }
}

fn features_table(app: &mut PromoStudioApp, ui: &mut egui::Ui, d: &Dataset) {
    let f = &d.feature_rows;
    ui.weak(format!(
        "{} customers (DATA.md §2), as of {}. Click a column title to sort; again to reverse.",
        format::count(f.len() as f64),
        crate::core::import::parse::format_ms(d.features.as_of_ms)
    ));
    let sort = app.view.feature_sort;
    let mut clicked: Option<usize> = None;
    let left = egui::Layout::left_to_right(egui::Align::Center);
    let right = egui::Layout::right_to_left(egui::Align::Center);
    egui::ScrollArea::horizontal().id_salt("features-h").show(ui, |ui| {
        TableBuilder::new(ui)
            .id_salt("features")
            .striped(true)
            .column(Column::initial(110.0).clip(true))
            .columns(Column::initial(104.0).clip(true), f.columns.len())
            .header(theme::ROW_HEIGHT + 4.0, |mut h| {
                h.col(|ui| {
                    if ui.button(if sort.is_none() { "customer_id ▲" } else { "customer_id" }).clicked() {
                        clicked = Some(usize::MAX);
                    }
                });
                for (c, (name, _)) in f.columns.iter().enumerate() {
                    let arrow = match sort {
                        Some((s, false)) if s == c => " ▲",
                        Some((s, true)) if s == c => " ▼",
                        _ => "",
                    };
                    h.col(|ui| {
                        if ui.button(format!("{name}{arrow}")).clicked() {
                            clicked = Some(c);
                        }
                    });
                }
            })
            .body(|body| {
                body.rows(theme::ROW_HEIGHT, f.len(), |mut row| {
                    let i = match sort {
                        None => row.index(),
                        Some((c, descending)) => f.sorted_row(c, descending, row.index()),
                    };
                    row.col(|ui| {
                        ui.with_layout(left, |ui| ui.label(&f.customer_ids[i]));
                    });
                    for (name, values) in &f.columns {
                        row.col(|ui| match values {
                            FeatureValues::Number(v) => {
                                ui.with_layout(right, |ui| ui.label(feature_text(name, v[i])));
                            }
                            FeatureValues::Text(v) => {
                                ui.with_layout(left, |ui| ui.label(&v[i]));
                            }
                        });
                    }
                });
            });
    });
    if let Some(c) = clicked {
        app.view.feature_sort = match (c, sort) {
            (usize::MAX, _) => None,
            (c, Some((s, false))) if s == c => Some((c, true)),
            (c, _) => Some((c, false)),
        };
    }
}
