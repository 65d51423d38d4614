//! The desktop app: a thin shell over the pipeline (`core::pipeline`, with the
//! stages of `core::stages`). The UI thread draws and dispatches; every
//! computation is a background job (`crate::jobs`). Widgets do not change
//! state directly: they push a [`Command`], applied at the end of the frame.

mod automation;
mod commands;
mod dialogs;
pub mod settings;
mod status;
pub mod theme;
mod views;
mod widgets;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

pub use automation::{Automation, Bench, FrameTimes, parse_screen};
pub use commands::{AfterJob, Command};
use settings::{STORAGE_KEY, Settings};
pub use status::{Level, Notice};
pub use views::screen_titles;

use crate::core::campaign::draft::CampaignDraft;
use crate::core::pipeline::{Flow, Stage};
use crate::core::stages::dataset::{FilePreview, LoadData};
use crate::jobs::Jobs;

/// Per-screen state that is not worth saving (text being typed, sort order).
#[derive(Default)]
pub struct ViewState {
    pub path_text: String,
    pub data_tab: views::data::DataTab,
    /// (column index, descending); None = by customer id.
    pub feature_sort: Option<(usize, bool)>,
    pub export_path: String,
    /// Mapping being edited for `preview`: canonical name → file column ("" = not used).
    pub mapping_edit: std::collections::BTreeMap<String, String>,
    /// A forecast pinned on the Simulation screen, to compare the next run with.
    pub pinned: Option<std::sync::Arc<crate::core::stages::campaigns::CampaignOutlook>>,
    /// The offer open in the Promotions screen's editor.
    pub selected_offer: usize,
    /// The customer id typed in the Promotions screen's search.
    pub offer_search: String,
    /// Export fields: the plan file, the report file, the pseudonymisation key file.
    pub plan_path: String,
    pub report_path: String,
    pub key_path: String,
}

/// Everything the app holds: settings, the pipeline's results, running jobs.
pub struct PromoStudioApp {
    pub settings: Settings,
    /// Every stage's result and choices; what is stale and what runs next.
    pub flow: Flow,
    pub jobs: Jobs<AfterJob>,
    pub preview: Option<FilePreview>,
    pub notices: Vec<Notice>,
    pub view: ViewState,
    pub automation: Option<Automation>,
    /// The campaign being edited on the Promotions screen, with undo and autosave.
    pub draft: CampaignDraft,
    dialogs: dialogs::Dialogs,
    pub frame_times: FrameTimes,
    commands: Vec<Command>,
    /// False for automated runs: they neither read nor write the saved state.
    persist: bool,
    waker_installed: bool,
    started: Instant,
}

impl PromoStudioApp {
    /// A new app with `settings`, loading the last file (or the bundled sample).
    pub fn new(settings: Settings) -> PromoStudioApp {
        let mut flow = Flow::new(crate::core::stages::flow());
        let problems = flow.restore_choices(&settings.stages);
        let mut app = PromoStudioApp {
            settings,
            flow,
            jobs: Jobs::default(),
            preview: None,
            notices: Vec::new(),
            view: ViewState::default(),
            automation: None,
            draft: CampaignDraft::new(crate::core::sample::bundled::starting_campaign(true), None),
            dialogs: dialogs::Dialogs::default(),
            frame_times: FrameTimes::default(),
            commands: Vec::new(),
            persist: true,
            waker_installed: false,
            started: Instant::now(),
        };
        for problem in problems {
            app.notify(Level::Warning, format!("saved choices of {problem}; defaults are used"));
        }
        let (path, overrides) = match &app.settings.last_file {
            Some(p) if p.exists() => (p.clone(), app.settings.mapping.clone()),
            Some(p) => {
                app.notify(Level::Warning, format!("{} is gone; showing the bundled sample instead", p.display()));
                (crate::core::sample::bundled::events_path(), vec![])
            }
            None => (crate::core::sample::bundled::events_path(), vec![]),
        };
        app.view.path_text = crate::core::sample::bundled::shown_in_field(&path);
        app.commands.push(Command::Load { path, overrides });
        app.flow.choices.of_mut::<crate::core::stages::campaigns::Planning>().campaign =
            Some(app.draft.campaign().clone());
        app
    }

    /// Keeps the campaign being edited in `path` from now on, every edit
    /// written there at once; a campaign a crash left there is restored.
    pub fn autosave_to(&mut self, path: PathBuf) {
        let (draft, problem) = CampaignDraft::restore(path, self.draft.campaign().clone());
        self.draft = draft;
        match problem {
            Some(e) => self.notify(
                Level::Warning,
                format!("The autosaved campaign could not be read ({e}); the bundled one is shown"),
            ),
            None if self.draft.modified => self.notify(
                Level::Info,
                format!("Restored “{}”, the campaign you were editing, from its autosave", self.draft.campaign().name),
            ),
            None => {}
        }
        self.after_draft_change(Ok(()));
    }

    /// The app eframe starts: settings restored from storage (a broken state is
    /// reported and replaced), fonts and theme installed.
    pub fn from_creation_context(cc: &eframe::CreationContext<'_>) -> PromoStudioApp {
        theme::apply(&cc.egui_ctx);
        let mut app = PromoStudioApp::restore(cc.storage.and_then(|s| s.get_string(STORAGE_KEY)).as_deref());
        if let Some(dir) = eframe::storage_dir(APP_ID) {
            app.autosave_to(dir.join(AUTOSAVE_FILE));
        }
        app
    }

    /// The app with settings decoded from their saved text; a state that does
    /// not decode is reported and replaced by defaults (saved over at the next save).
    pub fn restore(saved: Option<&str>) -> PromoStudioApp {
        let (settings, problem) = match saved.map(settings::decode) {
            None => (Settings::default(), None),
            Some(Ok(s)) => (s, None),
            Some(Err(e)) => (Settings::default(), Some(e)),
        };
        let mut app = PromoStudioApp::new(settings);
        if let Some(problem) = problem {
            app.notify(Level::Warning, problem);
        }
        app
    }

    /// The settings as saved by eframe persistence, with every stage's choices.
    pub fn saved_settings(&self) -> String {
        let settings = Settings { stages: self.flow.save_choices(), ..self.settings.clone() };
        settings::encode(&settings)
    }

    /// The loaded data, if any: what most screens start from.
    pub fn dataset(&self) -> Option<&Arc<crate::core::stages::dataset::Dataset>> {
        self.flow.get::<LoadData>()
    }

    /// Whether anything is under way: a job, or a command still to apply
    /// (a run asked for in this frame starts at the end of it).
    pub fn is_working(&self) -> bool {
        !self.jobs.is_idle() || !self.commands.is_empty()
    }

    /// Whether a run of `S` is under way.
    pub fn is_running<S: Stage>(&self) -> bool {
        self.jobs.is_running(S::NAME)
    }

    pub fn notify(&mut self, level: Level, text: impl Into<String>) {
        self.notices.push(Notice::new(level, text.into()));
        if self.notices.len() > 50 {
            self.notices.remove(0);
        }
    }

    pub fn push(&mut self, command: Command) {
        self.commands.push(command);
    }

    /// Whether a file dialog is open (its answer not yet in).
    pub fn is_dialog_open(&self) -> bool {
        self.dialogs.is_open()
    }

    /// Opens a native file dialog without blocking the frame.
    fn open_dialog(&mut self, purpose: dialogs::DialogPurpose, ctx: &egui::Context) {
        let ctx = ctx.clone();
        if let Some(command) = self.dialogs.open(purpose, move || ctx.request_repaint()) {
            self.commands.push(command);
        }
    }

    /// One frame: collect finished jobs, draw, apply the commands the widgets sent.
    pub fn show(&mut self, ui: &mut egui::Ui) {
        let frame_started = Instant::now();
        if !self.waker_installed {
            let ctx = ui.ctx().clone();
            self.jobs.set_waker(Arc::new(move || ctx.request_repaint()));
            self.waker_installed = true;
        }
        let finished = self.jobs.poll();
        for finished in finished {
            self.on_finished(finished);
        }
        if let Some(command) = self.dialogs.poll() {
            self.commands.push(command);
        }
        for path in dropped_files(ui.ctx()) {
            self.commands.push(Command::Preview { path });
        }
        self.draw(ui);
        for command in runs_once(std::mem::take(&mut self.commands)) {
            self.apply(command);
        }
        if !self.jobs.is_idle() {
            // Progress and elapsed time refresh five times a second; jobs also wake
            // the UI when they report a step. More frames would take CPU from the job.
            ui.ctx().request_repaint_after(std::time::Duration::from_millis(200));
        }
        if let Some(mut automation) = self.automation.take() {
            // Only automated runs read the frame times; a normal session keeps none.
            let screen_busy = views::current(self).busy_with.iter().any(|k| self.jobs.is_running(k));
            self.frame_times.record(self.started, frame_started, !self.jobs.is_idle(), screen_busy);
            let done = automation.step(self, ui.ctx());
            if !done {
                self.automation = Some(automation);
            }
        }
    }

    fn draw(&mut self, ui: &mut egui::Ui) {
        egui::Panel::bottom("status").frame(theme::side_panel_frame(ui)).show(ui, |ui| status::status_bar(self, ui));
        egui::Panel::left("navigation")
            .frame(theme::side_panel_frame(ui))
            .exact_size(theme::NAV_WIDTH)
            .resizable(false)
            .show(ui, |ui| {
                views::navigation(self, ui);
            });
        let screen = views::current(self);
        theme::central_panel(ui).show(ui, |ui| (screen.show)(self, ui));
        status::toasts(self, ui.ctx());
    }
}

/// The frame's commands with each stage's run kept once: a screen reacting
/// to a result and the flow running on from it may both ask for the same
/// stage, and a second start would only cancel the first.
fn runs_once(mut commands: Vec<Command>) -> Vec<Command> {
    let mut asked = Vec::new();
    commands.retain(|c| match c {
        Command::Run(stage) if asked.contains(stage) => false,
        Command::Run(stage) => {
            asked.push(*stage);
            true
        }
        _ => true,
    });
    commands
}

fn dropped_files(ctx: &egui::Context) -> Vec<PathBuf> {
    ctx.input(|i| {
        i.raw.dropped_files.iter().map(|f| f.path().to_path_buf()).filter(|p| !p.as_os_str().is_empty()).collect()
    })
}

impl eframe::App for PromoStudioApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        if self.persist {
            storage.set_string(STORAGE_KEY, self.saved_settings());
        }
    }

    /// The panels' colour: they paint no fill of their own (`theme::central_panel`).
    fn clear_color(&self, visuals: &egui::Visuals) -> [f32; 4] {
        visuals.panel_fill.to_normalized_gamma_f32()
    }

    fn persist_egui_memory(&self) -> bool {
        self.persist
    }

    /// Settings are small; saving often means a crash loses little.
    fn auto_save_interval(&self) -> std::time::Duration {
        std::time::Duration::from_secs(5)
    }
}

/// The app's name for eframe: its storage directory is named after it.
const APP_ID: &str = "Promo Studio";

/// The campaign being edited, written at every edit (beside eframe's saved state).
pub const AUTOSAVE_FILE: &str = "campaign-draft.json";

/// How the window is started from the command line.
#[derive(Clone, Debug, Default)]
pub struct StartOptions {
    /// Write the rendered window to this PNG once the screen's jobs are done, then exit.
    pub screenshot: Option<PathBuf>,
    /// A screen's title (see [`screen_titles`]).
    pub screen: Option<String>,
    /// Load this events file instead of the last one or the sample.
    pub events: Option<PathBuf>,
    /// Measure start-up or frame times and print them as JSON.
    pub bench: Option<Bench>,
}

/// Opens the window. Returns the process exit code.
pub fn run(options: StartOptions) -> std::process::ExitCode {
    let started = Instant::now();
    let automated = options.screenshot.is_some() || options.bench.is_some();
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Promo Studio")
            .with_inner_size([1360.0, 860.0])
            .with_min_inner_size([900.0, 600.0]),
        // Automated runs must not read or overwrite the user's saved state.
        // OpenGL by default: under software rendering (VMs, remote desktops, CI)
        // it drew a frame in 15 ms where wgpu took 150 ms on this machine.
        renderer: match std::env::var("PROMO_STUDIO_RENDERER").as_deref() {
            Ok("wgpu") => eframe::Renderer::Wgpu,
            _ => eframe::Renderer::Glow,
        },
        persistence_path: if automated { Some(std::env::temp_dir().join("promo-studio-automation")) } else { None },
        ..Default::default()
    };
    let result = eframe::run_native(
        APP_ID,
        native,
        Box::new(move |cc| {
            // Automated runs start from defaults: the same picture whatever was saved.
            let mut app = if automated {
                theme::apply(&cc.egui_ctx);
                cc.egui_ctx.set_theme(egui::ThemePreference::System);
                let mut app = PromoStudioApp::restore(None);
                app.persist = false;
                app
            } else {
                PromoStudioApp::from_creation_context(cc)
            };
            app.started = started;
            if let Some(screen) = &options.screen {
                app.settings.screen = screen.clone();
            }
            if let Some(path) = &options.events {
                app.commands.clear();
                app.view.path_text = path.display().to_string();
                app.commands.push(Command::Load { path: path.clone(), overrides: vec![] });
            }
            if automated {
                app.automation = Some(Automation::new(options.clone(), &cc.egui_ctx));
            }
            Ok(Box::new(app))
        }),
    );
    match result {
        Ok(()) => automation::exit_code(),
        Err(e) => {
            eprintln!("error: could not open the window: {e}");
            eprintln!("(the command-line tools work without a display: promo-studio --help)");
            std::process::ExitCode::FAILURE
        }
    }
}
