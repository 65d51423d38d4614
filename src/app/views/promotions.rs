//! The Promotions screen: the campaign being edited. The offers as a list and
//! an editor for the one chosen (kind, value, 满减 tiers, channel, schedule,
//! who is eligible, the response it uses), the money (budget, holdout,
//! margin), the default assumptions with their ranges and sources, and the
//! assignment preview the planner makes in the background at every edit,
//! with a customer search that says why someone got their offer.
//!
//! Widgets edit a copy of the campaign; a change becomes one
//! [`Command::EditCampaign`] (undoable, autosaved). Problems are the core's
//! own messages (`Campaign::validate`), shown under the field they name.

use super::super::dialogs::DialogPurpose;
use super::super::widgets::{empty_state, screen_title, section, settings_panel, stat};
use super::super::{Command, PromoStudioApp, theme};
use super::ScreenDecl;
use crate::core::campaign::assign;
use crate::core::campaign::file::{
    Assignment, Campaign, Comparison, Eligibility, Offer, OfferKind, Problem, Rule, Tier,
};
use crate::core::campaign::plan::Group;
use crate::core::format;
use crate::core::pipeline::{Stage, StageKey};
use crate::core::stages::bundles::{BasketRules, OftenBoughtTogether};
use crate::core::stages::campaigns::{Calibration, CampaignPreview, Planning, campaign_problems};
use crate::core::stages::recommendations::{CustomerLookup, Recommendations};

pub const SCREEN: ScreenDecl = ScreenDecl {
    title: "Promotions",
    busy_with: &[Planning::NAME],
    summary: |app| {
        let preview = app.flow.get::<Planning>()?;
        match &preview.summary {
            Some(s) => Some(format!("{} targeted", format::count(s.targeted as f64))),
            None => Some(format!("{} to fix", preview.problems.len())),
        }
    },
    show,
    on_result,
    on_demand: None,
};

/// A shop's past campaign calibrated (or found missing): a campaign nobody
/// has touched starts again from the bundled offers, on its arms if there
/// are any, so that another shop's data does not open on arms it lacks.
fn on_result(app: &mut PromoStudioApp, stage: StageKey, _: f64) {
    if stage != StageKey::of::<Calibration>() || !app.draft.is_untouched() {
        return;
    }
    let calibrated = app.flow.get::<Calibration>().is_some_and(|e| e.is_some());
    let starting = crate::core::sample::bundled::starting_campaign(calibrated);
    if *app.draft.campaign() != starting {
        app.draft.reset(starting);
        app.after_draft_change(Ok(()));
    }
}

/// The edit being made this frame: a copy of the campaign, the field that
/// changed, and the problems to show at their fields.
struct Form<'a> {
    campaign: Campaign,
    /// Whether anything changed this frame.
    changed: bool,
    /// The field typed or dragged in, when that is all that changed: such
    /// edits of one field in a row are one undo step. A click is a step of its own.
    typed_in: Option<String>,
    problems: &'a [Problem],
}

impl Form<'_> {
    /// Notes that the text field or number at `field` changed the copy.
    fn track(&mut self, response: &egui::Response, field: &str) {
        if response.changed() {
            self.changed = true;
            self.typed_in = Some(field.to_string());
        }
    }

    /// Notes a change made by a click (a button, a checkbox, a choice in a list).
    fn step(&mut self) {
        self.changed = true;
        self.typed_in = None;
    }

    /// The core's messages about `field` and what lies under it, in red under the field.
    fn problems_at(&self, ui: &mut egui::Ui, field: &str) {
        for p in self.problems.iter().filter(|p| is_under(&p.path, field)) {
            ui.colored_label(theme::ERROR, format!("⚠ {}", p.message));
        }
    }
}

/// Whether a problem's `path` is `field` or inside it (`offers[0].tiers[1].value` is in `offers[0].tiers`).
fn is_under(path: &str, field: &str) -> bool {
    path == field || path.strip_prefix(field).is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}

fn show(app: &mut PromoStudioApp, ui: &mut egui::Ui) {
    let preview = app.flow.get::<Planning>().cloned();
    let current = app.draft.campaign().clone();
    // The preview's problems are for the campaign it planned; an edit since is checked at once.
    let problems: Vec<Problem> = match &preview {
        Some(p) if p.campaign == current => p.problems.clone(),
        Some(p) => campaign_problems(&current, &p.known),
        None => Vec::new(),
    };
    let mut form = Form { campaign: current.clone(), changed: false, typed_in: None, problems: &problems };
    shortcuts(app, ui);
    settings_panel(ui, "promotion-settings", |ui| campaign_settings(app, &mut form, ui));
    theme::central_panel(ui).show(ui, |ui| {
        screen_title(
            ui,
            "Promotions",
            "Design the campaign: its offers, who may get each, and what each is expected to do. The plan below follows every edit.",
        );
        egui::ScrollArea::vertical().show(ui, |ui| {
            offer_list(app, &mut form, preview.as_deref(), ui);
            if !form.campaign.offers.is_empty() {
                let i = app.view.selected_offer.min(form.campaign.offers.len() - 1);
                app.view.selected_offer = i;
                let bundles = app.flow.get::<OftenBoughtTogether>();
                offer_editor(&mut form, i, preview.as_deref(), bundles.as_ref().map(|b| b.as_ref()), ui);
                eligibility_editor(&mut form, i, preview.as_deref(), &current, ui);
            }
            assumptions_editor(&mut form, ui);
            assignment_preview(app, &problems, preview.as_deref(), &current, ui);
            customer_search(app, preview.as_deref(), ui);
        });
    });
    if form.changed && form.campaign != current {
        app.push(Command::EditCampaign { field: form.typed_in.take(), campaign: Box::new(form.campaign) });
    }
}

/// Ctrl+Z and Ctrl+Shift+Z (or Ctrl+Y) undo and redo campaign edits, unless a
/// text field has the keyboard (it undoes its own typing).
fn shortcuts(app: &mut PromoStudioApp, ui: &egui::Ui) {
    if ui.ctx().egui_wants_keyboard_input() {
        return;
    }
    let (undo, redo) = ui.input_mut(|i| {
        let redo = i.consume_key(egui::Modifiers::COMMAND | egui::Modifiers::SHIFT, egui::Key::Z)
            || i.consume_key(egui::Modifiers::COMMAND, egui::Key::Y);
        (i.consume_key(egui::Modifiers::COMMAND, egui::Key::Z), redo)
    });
    if undo {
        app.push(Command::UndoCampaign);
    }
    if redo {
        app.push(Command::RedoCampaign);
    }
}

fn campaign_settings(app: &mut PromoStudioApp, form: &mut Form, ui: &mut egui::Ui) {
    section(ui, "Campaign");
    let r = ui.add(egui::TextEdit::singleline(&mut form.campaign.name).desired_width(f32::INFINITY));
    form.track(&r.accessible_name("Campaign name"), "name");
    form.problems_at(ui, "name");
    let file = match &app.draft.file {
        Some(path) => format!("File: {}", format::file_name(path)),
        None => "Not saved to a file yet".to_string(),
    };
    ui.weak(if app.draft.modified { format!("{file} · edited (autosaved)") } else { file });
    let dialogs_free = !app.is_dialog_open();
    ui.horizontal_wrapped(|ui| {
        if ui.button("New").on_hover_text("An empty campaign with one offer (undoable)").clicked() {
            app.push(Command::NewCampaign);
        }
        if ui
            .add_enabled(dialogs_free, egui::Button::new("Open…"))
            .on_hover_text("A campaign file (JSON, DATA.md §7)")
            .clicked()
        {
            app.open_dialog(DialogPurpose::OpenCampaign, ui.ctx());
        }
        match app.draft.file.clone() {
            Some(path) if ui.button("Save").clicked() => app.push(Command::SaveCampaign { path }),
            _ => {}
        }
        if ui.add_enabled(dialogs_free, egui::Button::new("Save as…")).clicked() {
            app.open_dialog(DialogPurpose::SaveCampaign, ui.ctx());
        }
    });
    ui.horizontal(|ui| {
        if ui.add_enabled(app.draft.can_undo(), egui::Button::new("Undo")).on_hover_text("Ctrl+Z").clicked() {
            app.push(Command::UndoCampaign);
        }
        if ui.add_enabled(app.draft.can_redo(), egui::Button::new("Redo")).on_hover_text("Ctrl+Shift+Z").clicked() {
            app.push(Command::RedoCampaign);
        }
    });

    section(ui, "Money");
    egui::Grid::new("campaign-money").num_columns(2).spacing([theme::SPACE, 6.0]).show(ui, |ui| {
        ui.label("Horizon");
        let r = ui.add(egui::DragValue::new(&mut form.campaign.horizon_days).speed(1.0).suffix(" days"));
        form.track(&r.accessible_name("Horizon"), "horizon_days");
        ui.end_row();
        ui.label("Gross margin");
        let r = ui.add(egui::DragValue::new(&mut form.campaign.margin).speed(0.01).max_decimals(3));
        form.track(
            &r.on_hover_text("Share of list-price revenue kept as gross profit").accessible_name("Gross margin"),
            "margin",
        );
        ui.end_row();
        ui.label("Budget");
        ui.horizontal(|ui| {
            let mut capped = form.campaign.budget.is_some();
            let r = ui.checkbox(&mut capped, "").on_hover_text("Cap the expected cost (discounts + messages)");
            if r.accessible_name("Cap the cost").changed() {
                form.campaign.budget = capped.then_some(1000.0);
                form.step();
            }
            if let Some(budget) = &mut form.campaign.budget {
                let r = ui.add(egui::DragValue::new(budget).speed(10.0));
                form.track(&r.accessible_name("Budget"), "budget");
            } else {
                ui.weak("no cap");
            }
        });
        ui.end_row();
        ui.label("Holdout");
        let r = ui.add(egui::DragValue::new(&mut form.campaign.holdout).speed(0.005).max_decimals(3));
        form.track(
            &r.on_hover_text("Share of the targeted customers kept back at random as the control group")
                .accessible_name("Holdout"),
            "holdout",
        );
        ui.end_row();
        ui.label("Assignment");
        let words = |a: Assignment| match a {
            Assignment::Optimise => "Budget-optimal",
            Assignment::Everyone => "A/B/n test",
        };
        let before = form.campaign.assignment;
        egui::ComboBox::from_id_salt("assignment")
            .selected_text(words(before))
            .show_ui(ui, |ui| {
                for a in [Assignment::Optimise, Assignment::Everyone] {
                    ui.selectable_value(&mut form.campaign.assignment, a, words(a));
                }
            })
            .response
            .accessible_name("Assignment");
        if form.campaign.assignment != before {
            form.step();
        }
        ui.end_row();
        ui.label("Seed");
        let r = ui.add(egui::DragValue::new(&mut form.campaign.seed));
        form.track(&r.accessible_name("Campaign seed"), "seed");
        ui.end_row();
    });
    for field in ["horizon_days", "margin", "budget", "holdout"] {
        form.problems_at(ui, field);
    }
    ui.weak(match form.campaign.assignment {
        Assignment::Optimise => {
            "Each customer gets at most the one offer with the highest expected incremental profit, within the budget."
        }
        Assignment::Everyone => {
            "Every eligible customer gets one of their offers at random: a test of the offers against each other."
        }
    });

    section(ui, "Channels");
    let mut remove = None;
    egui::Grid::new("channels").num_columns(4).spacing([6.0, 4.0]).show(ui, |ui| {
        ui.weak("Name");
        ui.weak("Cost / message");
        ui.weak("Reach");
        ui.label("");
        ui.end_row();
        let n = form.campaign.channels.len();
        for c in 0..n {
            let at = format!("channels[{c}]");
            let old_name = form.campaign.channels[c].name.clone();
            let channel = &mut form.campaign.channels[c];
            let r = ui.add_sized([84.0, 20.0], egui::TextEdit::singleline(&mut channel.name));
            let r = r.accessible_name(format!("Channel {} name", c + 1));
            let cost = ui.add(egui::DragValue::new(&mut channel.cost_per_message).speed(0.001).max_decimals(4));
            let cost = cost.accessible_name(format!("Channel {} cost per message", c + 1));
            let reach = ui.add(egui::DragValue::new(&mut channel.reach).speed(0.01).max_decimals(3));
            let reach = reach
                .on_hover_text("Share of messages that arrive")
                .accessible_name(format!("Channel {} reach", c + 1));
            if ui.add_enabled(n > 1, egui::Button::new("✖")).on_hover_text("Remove this channel").clicked() {
                remove = Some(c);
            }
            if r.changed() {
                // The offers sent through it follow the new name.
                let new_name = form.campaign.channels[c].name.clone();
                for offer in form.campaign.offers.iter_mut().filter(|o| o.channel == old_name) {
                    offer.channel = new_name.clone();
                }
            }
            form.track(&r, &format!("{at}.name"));
            form.track(&cost, &format!("{at}.cost_per_message"));
            form.track(&reach, &format!("{at}.reach"));
            ui.end_row();
        }
    });
    form.problems_at(ui, "channels");
    if let Some(c) = remove {
        form.campaign.channels.remove(c);
        form.step();
    }
    if ui.button("Add channel").clicked() {
        let name =
            (2..).map(|i| format!("channel {i}")).find(|n| form.campaign.channel(n).is_none()).unwrap_or_default();
        form.campaign.channels.push(crate::core::campaign::file::Channel::new(name));
        form.step();
    }
}

fn offer_list(app: &mut PromoStudioApp, form: &mut Form, preview: Option<&CampaignPreview>, ui: &mut egui::Ui) {
    section(ui, "Offers");
    // Counts are the planner's, for the campaign it planned: a row edited since shows "…".
    let planned = preview.filter(|p| p.campaign == *app.draft.campaign());
    egui::Grid::new("offer-list").num_columns(6).striped(true).spacing([theme::SPACE_LARGE, 4.0]).show(ui, |ui| {
        for title in ["Offer", "Kind", "Channel", "Eligible", "Assigned", "Response"] {
            ui.strong(title);
        }
        ui.end_row();
        for (i, offer) in form.campaign.offers.iter().enumerate() {
            let flagged = form.problems.iter().any(|p| is_under(&p.path, &format!("offers[{i}]")));
            let text = if flagged { format!("⚠ {}", offer.name) } else { offer.name.clone() };
            if ui.selectable_label(app.view.selected_offer == i, text).clicked() {
                app.view.selected_offer = i;
            }
            ui.label(offer.kind.label());
            ui.label(&offer.channel);
            let counted = preview.filter(|p| p.campaign.offers.get(i).map(|o| &o.eligible) == Some(&offer.eligible));
            match counted.and_then(|p| p.eligible.get(i)) {
                Some(n) => ui.label(format::count(*n as f64)),
                None => ui.weak("…"),
            };
            match planned.and_then(|p| p.summary.as_ref()).and_then(|s| s.per_offer.get(i)) {
                Some((_, (t, c))) => ui.label(format::count((t + c) as f64)),
                None => ui.weak("—"),
            };
            ui.label(offer.response.as_deref().map_or("default assumptions".to_string(), |a| format!("arm “{a}”")));
            ui.end_row();
        }
    });
    // Only the list's own problems here; an offer's are under its fields in the editor.
    for p in form.problems.iter().filter(|p| p.path == "offers") {
        ui.colored_label(theme::ERROR, format!("⚠ {}", p.message));
    }
    ui.horizontal(|ui| {
        if ui.button("Add offer").clicked() {
            app.view.selected_offer = form.campaign.add_offer();
            form.step();
        }
        let n = form.campaign.offers.len();
        if n > 0 && ui.button("Duplicate").clicked() {
            let mut copy = form.campaign.offers[app.view.selected_offer.min(n - 1)].clone();
            copy.name = (2..)
                .map(|k| format!("{} ({k})", copy.name))
                .find(|c| form.campaign.offer(c).is_none())
                .unwrap_or_default();
            form.campaign.offers.push(copy);
            app.view.selected_offer = n;
            form.step();
        }
        if n > 0 && ui.button("Remove offer").clicked() {
            form.campaign.offers.remove(app.view.selected_offer.min(n - 1));
            app.view.selected_offer = app.view.selected_offer.saturating_sub(1);
            form.step();
        }
    });
}

/// The bundle's products, and bundles proposed from the shop's baskets
/// (strongest first); true when the user picked one.
fn bundle_products(offer: &mut Offer, bundles: Option<&BasketRules>, ui: &mut egui::Ui) -> bool {
    let mut picked = false;
    ui.vertical(|ui| {
        let name = |id: &String| {
            bundles
                .and_then(|b| b.items.binary_search(id).ok().map(|n| b.names[n].clone()))
                .unwrap_or_else(|| id.clone())
        };
        let chosen: Option<String> = offer
            .products
            .as_deref()
            .filter(|ids| !ids.is_empty())
            .map(|ids| ids.iter().map(name).collect::<Vec<_>>().join(" + "));
        match chosen {
            Some(names) => {
                ui.horizontal_wrapped(|ui| {
                    ui.label(names);
                    if ui.small_button("✖").on_hover_text("Clear the bundle's products").clicked() {
                        offer.products = None;
                        picked = true;
                    }
                });
            }
            _ => {
                ui.weak("none chosen yet");
            }
        }
        let Some(rules) = bundles else {
            ui.weak("Proposals appear once the baskets are mined (Recommendations screen).");
            return;
        };
        if rules.top.is_empty() {
            ui.weak("No bundle in the baskets reaches the minimums set on the Recommendations screen.");
            return;
        }
        egui::ComboBox::from_id_salt("bundle-proposal")
            .selected_text("Propose from baskets…")
            .width(360.0)
            .show_ui(ui, |ui| {
                for (set, rule) in &rules.top {
                    let text = format!(
                        "{}  ({} orders, lift {:.1}×)",
                        rules.label(&set.items),
                        format::count(set.baskets as f64),
                        rule.lift
                    );
                    if ui.selectable_label(false, text).clicked() {
                        offer.products = Some(rules.ids(&set.items));
                        picked = true;
                    }
                }
            })
            .response
            .accessible_name("Propose a bundle");
    });
    picked
}

fn offer_editor(
    form: &mut Form,
    i: usize,
    preview: Option<&CampaignPreview>,
    bundles: Option<&BasketRules>,
    ui: &mut egui::Ui,
) {
    let at = format!("offers[{i}]");
    section(ui, &format!("Offer: {}", form.campaign.offers[i].name));
    let channels: Vec<String> = form.campaign.channels.iter().map(|c| c.name.clone()).collect();
    let arms: Vec<String> = preview.and_then(|p| p.known.arms.clone()).unwrap_or_default();
    let mut changed: Vec<(egui::Response, String)> = Vec::new();
    let mut clicked = false;
    egui::Grid::new("offer-editor").num_columns(2).spacing([theme::SPACE_LARGE, 6.0]).show(ui, |ui| {
        let offer = &mut form.campaign.offers[i];
        ui.label("Name");
        let r = ui.add(egui::TextEdit::singleline(&mut offer.name).desired_width(260.0)).accessible_name("Offer name");
        changed.push((r, format!("{at}.name")));
        ui.end_row();

        ui.label("Kind");
        let kind = offer.kind;
        egui::ComboBox::from_id_salt("offer-kind")
            .selected_text(kind.label())
            .width(220.0)
            .show_ui(ui, |ui| {
                for k in OfferKind::ALL {
                    ui.selectable_value(&mut offer.kind, k, k.label());
                }
            })
            .response
            .accessible_name("Offer kind");
        if offer.kind != kind {
            // A message carries no value; any other kind starts from the old value or 10.
            offer.value = offer.kind.needs_value().then(|| offer.value.unwrap_or(10.0));
            clicked = true;
        }
        ui.end_row();

        if offer.kind.needs_value() {
            ui.label("Value");
            ui.horizontal(|ui| {
                let mut value = offer.value.unwrap_or(0.0);
                let r =
                    ui.add(egui::DragValue::new(&mut value).speed(0.5).max_decimals(2)).accessible_name("Offer value");
                if r.changed() {
                    offer.value = Some(value);
                }
                ui.weak(offer.kind.value_meaning());
                changed.push((r, format!("{at}.value")));
            });
            ui.end_row();
        }

        ui.label("Minimum spend");
        let (toggle, value) = optional_number(
            ui,
            &mut offer.min_spend,
            50.0,
            "Minimum spend",
            "order total that unlocks the offer",
            "none",
        );
        clicked |= toggle.changed();
        changed.extend(value.map(|r| (r, format!("{at}.min_spend"))));
        ui.end_row();

        if offer.kind == OfferKind::AmountOff {
            ui.label("Tiers (满减)");
            ui.vertical(|ui| {
                let tiers = offer.tiers.get_or_insert_with(Vec::new);
                let mut remove = None;
                for (t, tier) in tiers.iter_mut().enumerate() {
                    ui.horizontal(|ui| {
                        ui.label("spend at least");
                        let a = ui
                            .add(egui::DragValue::new(&mut tier.min_spend).speed(5.0))
                            .accessible_name(format!("Tier {} threshold", t + 1));
                        ui.label("save");
                        let b = ui
                            .add(egui::DragValue::new(&mut tier.value).speed(1.0))
                            .accessible_name(format!("Tier {} saving", t + 1));
                        if ui.button("✖").on_hover_text("Remove this tier").clicked() {
                            remove = Some(t);
                        }
                        changed.push((a, format!("{at}.tiers[{t}].min_spend")));
                        changed.push((b, format!("{at}.tiers[{t}].value")));
                    });
                }
                if let Some(t) = remove {
                    tiers.remove(t);
                    clicked = true;
                }
                if ui.button("Add tier").on_hover_text("满300减40, 满500减80: spend more, save more").clicked() {
                    let next = tiers.last().map_or(Tier { min_spend: 100.0, value: 10.0 }, |t| Tier {
                        min_spend: t.min_spend * 2.0,
                        value: t.value * 2.0,
                    });
                    tiers.push(next);
                    clicked = true;
                }
                if tiers.is_empty() {
                    offer.tiers = None;
                }
            });
            ui.end_row();
        } else if offer.kind != kind && offer.tiers.take().is_some() {
            // Tiers belong to an amount off: a change of kind drops them (one undoable step).
            clicked = true;
        }

        if offer.kind == OfferKind::Bundle {
            ui.label("Products");
            clicked |= bundle_products(offer, bundles, ui);
            ui.end_row();
        } else if offer.kind != kind && offer.products.take().is_some() {
            // Products belong to a bundle, as tiers to an amount off.
            clicked = true;
        }

        ui.label("Channel");
        let before = offer.channel.clone();
        egui::ComboBox::from_id_salt("offer-channel")
            .selected_text(&offer.channel)
            .show_ui(ui, |ui| {
                for c in &channels {
                    ui.selectable_value(&mut offer.channel, c.clone(), c);
                }
            })
            .response
            .accessible_name("Offer channel");
        if offer.channel != before {
            clicked = true;
        }
        ui.end_row();

        ui.label("Schedule");
        ui.horizontal(|ui| {
            for (field, slot, hint) in
                [("starts", &mut offer.starts, "starts YYYY-MM-DD"), ("ends", &mut offer.ends, "ends YYYY-MM-DD")]
            {
                let mut text = slot.clone().unwrap_or_default();
                let r = ui
                    .add(egui::TextEdit::singleline(&mut text).hint_text(hint).desired_width(140.0))
                    .accessible_name(hint);
                if r.changed() {
                    *slot = Some(text.trim().to_string()).filter(|t| !t.is_empty());
                }
                changed.push((r, format!("{at}.{field}")));
            }
        });
        ui.end_row();

        ui.label("Usage limit");
        let (toggle, value) =
            optional_number(ui, &mut offer.usage_limit, 1, "Usage limit", "uses per customer", "unlimited");
        clicked |= toggle.changed();
        changed.extend(value.map(|r| (r, format!("{at}.usage_limit"))));
        ui.end_row();

        ui.label("Response");
        let before = offer.response.clone();
        let shown =
            offer.response.as_deref().map_or("Default assumptions".to_string(), |a| format!("Calibrated arm “{a}”"));
        egui::ComboBox::from_id_salt("offer-response")
            .selected_text(shown)
            .width(260.0)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut offer.response, None, "Default assumptions");
                for arm in &arms {
                    ui.selectable_value(&mut offer.response, Some(arm.clone()), format!("Calibrated arm “{arm}”"));
                }
            })
            .response
            .accessible_name("Offer response");
        if offer.response != before {
            clicked = true;
        }
        ui.end_row();
    });
    for (r, field) in &changed {
        form.track(r, field);
    }
    if clicked {
        form.step();
    }
    for field in ["name", "kind", "value", "min_spend", "tiers", "channel", "starts", "ends", "usage_limit", "response"]
    {
        form.problems_at(ui, &format!("{at}.{field}"));
    }
    if arms.is_empty() && preview.is_some_and(|p| p.known.arms.is_none()) {
        ui.weak("No past campaign is calibrated for this data: offers use the default assumptions below.");
    }
}

/// An optional number: a checkbox that turns it on (at `default`) or off,
/// and its value with what it means. Returns the checkbox's response and the value's.
fn optional_number<T: egui::emath::Numeric>(
    ui: &mut egui::Ui,
    slot: &mut Option<T>,
    default: T,
    name: &str,
    meaning: &str,
    off: &str,
) -> (egui::Response, Option<egui::Response>) {
    ui.horizontal(|ui| {
        let mut on = slot.is_some();
        let toggle = ui.checkbox(&mut on, "").accessible_name(format!("Has a {}", name.to_lowercase()));
        if toggle.changed() {
            *slot = on.then_some(default);
        }
        let value = match slot {
            Some(x) => {
                let r = ui.add(egui::DragValue::new(x)).accessible_name(name);
                ui.weak(meaning);
                Some(r)
            }
            None => {
                ui.weak(off);
                None
            }
        };
        (toggle, value)
    })
    .inner
}

fn eligibility_editor(
    form: &mut Form,
    i: usize,
    preview: Option<&CampaignPreview>,
    current: &Campaign,
    ui: &mut egui::Ui,
) {
    let at = format!("offers[{i}].eligible");
    section(ui, "Who may get it");
    let segments = preview.and_then(|p| p.known.segments.clone()).unwrap_or_default();
    let rfm_groups = preview.map(|p| p.known.rfm_groups.clone()).unwrap_or_default();
    let features = preview.map(|p| p.known.features.clone()).unwrap_or_default();
    let mut eligible = form.campaign.offers[i].eligible.clone().unwrap_or_default();
    let mut changed = false;
    let mut pick = |ui: &mut egui::Ui, title: &str, names: &[String], chosen: &mut Vec<String>| {
        ui.horizontal_wrapped(|ui| {
            ui.label(title);
            if names.is_empty() {
                ui.weak("(none yet)");
            }
            // A chosen name this data does not have (another segmentation, another
            // shop) stays listed, marked, so that it can be unticked.
            let gone: Vec<String> = chosen.iter().filter(|c| !names.contains(c)).cloned().collect();
            for name in names.iter().chain(&gone) {
                let mut on = chosen.contains(name);
                let text = if gone.contains(name) { format!("⚠ {name}") } else { name.clone() };
                if ui.checkbox(&mut on, text).changed() {
                    if on {
                        chosen.push(name.clone());
                    } else {
                        chosen.retain(|x| x != name);
                    }
                    changed = true;
                }
            }
        });
    };
    pick(ui, "Segments:", &segments, &mut eligible.segments);
    pick(ui, "RFM groups:", &rfm_groups, &mut eligible.rfm_groups);
    ui.weak("Ticked: the customer must be in one of them. None ticked: any.");
    let mut remove = None;
    egui::Grid::new("rules").num_columns(4).spacing([6.0, 4.0]).show(ui, |ui| {
        for (r, rule) in eligible.rules.iter_mut().enumerate() {
            egui::ComboBox::from_id_salt(("rule-feature", r))
                .selected_text(rule.feature.replace('_', " "))
                .width(170.0)
                .show_ui(ui, |ui| {
                    for f in &features {
                        changed |= ui.selectable_value(&mut rule.feature, f.clone(), f.replace('_', " ")).changed();
                    }
                })
                .response
                .accessible_name(format!("Rule {} feature", r + 1));
            egui::ComboBox::from_id_salt(("rule-op", r))
                .selected_text(rule.op.as_str())
                .width(50.0)
                .show_ui(ui, |ui| {
                    for op in [
                        Comparison::AtLeast,
                        Comparison::Above,
                        Comparison::AtMost,
                        Comparison::Below,
                        Comparison::Equal,
                        Comparison::NotEqual,
                    ] {
                        changed |= ui.selectable_value(&mut rule.op, op, op.as_str()).changed();
                    }
                })
                .response
                .accessible_name(format!("Rule {} comparison", r + 1));
            changed |= ui
                .add(egui::DragValue::new(&mut rule.value).speed(1.0))
                .accessible_name(format!("Rule {} value", r + 1))
                .changed();
            if ui.button("✖").on_hover_text("Remove this rule").clicked() {
                remove = Some(r);
            }
            ui.end_row();
        }
    });
    if let Some(r) = remove {
        eligible.rules.remove(r);
        changed = true;
    }
    if ui.button("Add rule").on_hover_text("A test on a customer feature: recency days ≥ 60").clicked() {
        let feature = features.iter().find(|f| *f == "recency_days").or(features.first()).cloned().unwrap_or_default();
        eligible.rules.push(Rule { feature, op: Comparison::AtLeast, value: 60.0 });
        changed = true;
    }
    if changed {
        form.campaign.offers[i].eligible = Some(eligible).filter(|e| *e != Eligibility::default());
        form.step();
    }
    form.problems_at(ui, &at);
    // The count is the planner's: shown for the campaign it planned, "counting…" until it has this one.
    let counted =
        preview.filter(|p| p.campaign.offers.get(i).map(|o| &o.eligible) == current.offers.get(i).map(|o| &o.eligible));
    match counted.and_then(|p| p.eligible.get(i).map(|n| (*n, p.customers))) {
        Some((n, of)) => ui.label(
            egui::RichText::new(format!(
                "Eligible: {} of {} customers",
                format::count(n as f64),
                format::count(of as f64)
            ))
            .strong(),
        ),
        None => ui.weak("Eligible: counting…"),
    };
}

fn assumptions_editor(form: &mut Form, ui: &mut egui::Ui) {
    let used = form.campaign.offers.iter().any(|o| o.response.is_none());
    egui::CollapsingHeader::new("Default response assumptions").default_open(used).show(ui, |ui| {
        ui.weak("What an offer without a calibrated arm is assumed to do. The simulation draws each from its range; say where each number comes from.");
        let mut assumptions = form.campaign.assumptions_or_default();
        let mut field = None;
        egui::Grid::new("assumptions").num_columns(5).striped(true).spacing([theme::SPACE, 4.0]).show(ui, |ui| {
            for title in ["Assumption", "Value", "Low", "High", "Source"] {
                ui.strong(title);
            }
            ui.end_row();
            for (name, a) in assumptions.all_mut() {
                ui.label(name.replace('_', " "));
                let words = name.replace('_', " ");
                for (part, x) in [("value", &mut a.value), ("low", &mut a.low), ("high", &mut a.high)] {
                    if ui.add(egui::DragValue::new(x).speed(0.005).max_decimals(4)).accessible_name(format!("{words} {part}")).changed() {
                        field = Some(format!("assumptions.{name}.{part}"));
                    }
                }
                let r = ui.add(egui::TextEdit::singleline(&mut a.source).desired_width(320.0)).accessible_name(format!("{words} source"));
                if r.changed() {
                    field = Some(format!("assumptions.{name}.source"));
                }
                ui.end_row();
            }
        });
        if let Some(field) = field {
            form.campaign.assumptions = Some(assumptions);
            form.changed = true;
            form.typed_in = Some(field);
        }
        form.problems_at(ui, "assumptions");
    });
}

fn assignment_preview(
    app: &PromoStudioApp,
    problems: &[Problem],
    preview: Option<&CampaignPreview>,
    current: &Campaign,
    ui: &mut egui::Ui,
) {
    section(ui, "Assignment preview");
    let Some(p) = preview else {
        let words = if app.dataset().is_none() { "Load data on the Data screen first." } else { "Planning…" };
        return empty_state(ui, words);
    };
    if !problems.is_empty() {
        ui.colored_label(
            theme::ERROR,
            format!("{} to fix before the campaign can be planned:", problem_count(problems.len())),
        );
        for problem in problems {
            ui.colored_label(theme::ERROR, format!("• {problem}"));
        }
        return;
    }
    if p.campaign != *current || app.is_running::<Planning>() {
        ui.weak("Planning the latest edit…");
    }
    let Some(s) = &p.summary else { return };
    let tiles = [
        (format::count(s.targeted as f64), format!("of {} customers targeted", format::count(s.customers as f64))),
        (format::count(s.treated as f64), format!("sent the offer; {} held out", format::count(s.control as f64))),
        (format::money(s.expected_cost), "expected cost (discounts + messages)".to_string()),
        (format::money(s.expected_incremental_profit), "expected incremental profit".to_string()),
    ];
    ui.columns(tiles.len(), |columns| {
        for (ui, (value, caption)) in columns.iter_mut().zip(&tiles) {
            stat(ui, value, caption);
        }
    });
    ui.add_space(theme::SPACE);
    match s.budget {
        Some(budget) if budget > 0.0 => {
            let used = (s.expected_cost / budget).clamp(0.0, 1.0) as f32;
            let text = format!(
                "Budget: {} of {} used ({})",
                format::money(s.expected_cost),
                format::money(budget),
                format::percent(s.expected_cost / budget)
            );
            let colour = if used > 0.995 { theme::WARNING } else { theme::GOOD };
            ui.add(egui::ProgressBar::new(used).fill(colour).text(text.clone())).on_hover_text(if used > 0.995 {
                "The budget binds: more customers would be profitable than it pays for."
            } else {
                "The budget does not bind: every customer worth an offer gets one."
            });
        }
        _ => {
            ui.weak("No budget cap: every customer with a profitable offer gets one.");
        }
    }
    ui.add_space(theme::SPACE);
    egui::Grid::new("offer-preview").num_columns(6).striped(true).spacing([theme::SPACE_LARGE, 4.0]).show(ui, |ui| {
        for title in ["Offer", "Eligible", "Sent", "Held out", "Expected cost", "Expected incremental profit"] {
            ui.strong(title);
        }
        ui.end_row();
        for (k, (name, (t, c))) in s.per_offer.iter().enumerate() {
            let (cost, profit) = p.offer_totals.get(k).copied().unwrap_or_default();
            ui.label(name);
            ui.label(format::count(p.eligible.get(k).copied().unwrap_or(0) as f64));
            ui.label(format::count(*t as f64));
            ui.label(format::count(*c as f64));
            ui.label(format::money(cost));
            ui.label(format::money(profit));
            ui.end_row();
        }
    });
    if let Some(plan) = &p.plan {
        for note in &plan.notes {
            ui.colored_label(theme::WARNING, note);
        }
        ui.weak(&plan.customers.baseline_note);
    }
}

fn problem_count(n: usize) -> String {
    if n == 1 { "1 problem".to_string() } else { format!("{n} problems") }
}

/// A customer's offer and why, and the products the message would show them.
fn customer_search(app: &mut PromoStudioApp, preview: Option<&CampaignPreview>, ui: &mut egui::Ui) {
    section(ui, "Find a customer");
    ui.horizontal(|ui| {
        let r = ui
            .add(egui::TextEdit::singleline(&mut app.view.offer_search).hint_text("customer id").desired_width(200.0));
        let r = r.accessible_name("Customer to explain");
        let typed = app.view.offer_search.trim().to_string();
        let go = ui.add_enabled(!typed.is_empty(), egui::Button::new("Explain")).clicked()
            || (r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)));
        if go && !typed.is_empty() {
            app.flow.choices.of_mut::<Recommendations>().customer_id = typed;
            app.push(Command::run::<CustomerLookup>());
        }
    });
    let id = app.view.offer_search.trim();
    let Some(plan) = preview.and_then(|p| p.plan.as_ref()) else { return };
    if id.is_empty() {
        ui.weak("Type a customer id to see which offer they get and why.");
        return;
    }
    // The plan's customers are the feature table's rows, in its order: the
    // table's sorted index finds them without a scan each frame.
    let row = app.dataset().and_then(|d| d.feature_rows.row_of(id));
    let Some(i) = row.filter(|&i| plan.customers.ids.get(i).is_some_and(|x| x == id)) else {
        ui.colored_label(theme::WARNING, format!("No customer {id} in the loaded data."));
        return;
    };
    let names: Vec<&str> = plan.campaign.offers.iter().map(|o| o.name.as_str()).collect();
    let why = assign::explain(&plan.candidates, &plan.assignment, i, &names);
    let group = match plan.group[i] {
        Group::Treated => "gets the offer",
        Group::Control => "is held out (control group): assigned an offer but not sent it",
        Group::NotTargeted => "is not targeted",
    };
    ui.label(egui::RichText::new(format!("Customer {id} {group}.")).strong());
    ui.label(&why.sentence);
    if !why.options.is_empty() {
        egui::Grid::new("customer-options").num_columns(3).striped(true).spacing([theme::SPACE_LARGE, 2.0]).show(
            ui,
            |ui| {
                for title in ["Eligible offer", "Expected incremental profit", "Expected cost"] {
                    ui.strong(title);
                }
                ui.end_row();
                for o in &why.options {
                    let name = names.get(o.offer as usize).copied().unwrap_or("?");
                    ui.label(if o.chosen { format!("▶ {name}") } else { name.to_string() });
                    ui.label(format::money(o.profit));
                    ui.label(format::money(o.cost));
                    ui.end_row();
                }
            },
        );
    }
    let lookup = app.flow.get::<CustomerLookup>().filter(|v| v.customer_id == id);
    match lookup {
        Some(v) if !v.recommended.is_empty() => {
            ui.label("Products the message would show:");
            for line in v.recommended.iter().take(crate::core::campaign::export::PLAN_ITEMS) {
                ui.label(format!("• {} ({}) — {}", line.product.name, line.product.item_id, line.reason));
            }
        }
        Some(_) => {
            ui.weak("No products to recommend to this customer.");
        }
        None if app.is_running::<CustomerLookup>() => {
            ui.weak("Finding products…");
        }
        None => {
            ui.weak("Press Explain to see the products the message would show.");
        }
    }
}
