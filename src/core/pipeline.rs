//! The flow as data: every stage is declared once (what it needs, what it
//! yields, how it runs, which choices shape it), and the pipeline derives the
//! rest — which results a new result makes obsolete, which stages run next,
//! whether a result on screen still matches the choices. The desktop app runs
//! [`StageRun`]s as background jobs; the command line calls the same core
//! functions the stages' `run` calls, in the foreground. Nothing here knows
//! about the GUI.
//!
//! A stage is a type implementing [`Stage`] in its own module under
//! `core::stages`, listed once in [`crate::core::stages::flow`].

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::core::progress::Progress;
use crate::core::stages::StageError;

/// One step of the flow.
pub trait Stage: Send + Sync + 'static {
    /// How the stage is named in the status bar, in saved choices and in logs.
    const NAME: &'static str;
    /// Whether it runs by itself when what it needs changes (the flow runs
    /// on from a load); false: only when asked (a k scan, a lookup button).
    const FOLLOWS_INPUTS: bool = true;
    /// The stages whose results it reads, as a tuple: `(LoadData, Segments)`.
    /// Their results arrive typed in [`Stage::run`], so a stage cannot read
    /// what it did not declare.
    type Needs: Needs;
    /// What the user chooses for it, saved between runs (`()` for none).
    type Choices: Clone + Default + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static;
    /// Exactly what one run depends on besides its inputs: a result made with
    /// other params than the current ones is stale.
    type Params: Clone + PartialEq + Send + Sync + 'static;
    /// What it yields, shared read-only with the screens and later stages.
    type Output: Send + Sync + 'static;

    /// The params a run would use now, from the choices of every stage (a
    /// stage may read another's, as the k scan reads the segmentation's);
    /// None when it cannot run (no customer id typed yet).
    fn params(choices: &Choices) -> Option<Self::Params>;

    /// The status bar's words for a run ("Segmenting (k = 5)").
    fn label(params: &Self::Params) -> String;

    fn run(
        inputs: <Self::Needs as Needs>::Outputs,
        params: &Self::Params,
        progress: &dyn Progress,
    ) -> Result<Self::Output, StageError>;
}

/// A stage's identity: its type, and its name for people.
#[derive(Clone, Copy, Eq)]
pub struct StageKey {
    id: TypeId,
    pub name: &'static str,
}

impl StageKey {
    pub fn of<S: Stage>() -> StageKey {
        StageKey { id: TypeId::of::<S>(), name: S::NAME }
    }
}

impl PartialEq for StageKey {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl std::hash::Hash for StageKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

impl fmt::Debug for StageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// The inputs of a stage: `()`, or a tuple of stages.
pub trait Needs {
    /// Their results, in the same order.
    type Outputs: Send + 'static;
    fn keys() -> Vec<StageKey>;
    fn fetch(flow: &Flow) -> Option<Self::Outputs>;
}

impl Needs for () {
    type Outputs = ();
    fn keys() -> Vec<StageKey> {
        Vec::new()
    }
    fn fetch(_: &Flow) -> Option<()> {
        Some(())
    }
}

macro_rules! needs_tuple {
    ($($s:ident),+) => {
        impl<$($s: Stage),+> Needs for ($($s,)+) {
            type Outputs = ($(Arc<$s::Output>,)+);
            fn keys() -> Vec<StageKey> {
                vec![$(StageKey::of::<$s>()),+]
            }
            fn fetch(flow: &Flow) -> Option<Self::Outputs> {
                Some(($(flow.get::<$s>()?.clone(),)+))
            }
        }
    };
}
needs_tuple!(A);
needs_tuple!(A, B);
needs_tuple!(A, B, C);
needs_tuple!(A, B, C, D);

/// Every stage's choices, by stage.
#[derive(Default)]
pub struct Choices {
    by_stage: HashMap<TypeId, Box<dyn Any + Send + Sync>>,
}

impl Choices {
    /// The choices of `S` (its defaults until set).
    pub fn of<S: Stage>(&self) -> S::Choices {
        self.by_stage.get(&TypeId::of::<S>()).and_then(|c| c.downcast_ref::<S::Choices>()).cloned().unwrap_or_default()
    }

    /// The choices of `S`, to edit in place.
    pub fn of_mut<S: Stage>(&mut self) -> &mut S::Choices {
        let entry = self.by_stage.entry(TypeId::of::<S>()).or_insert_with(|| Box::new(S::Choices::default()));
        if !entry.is::<S::Choices>() {
            *entry = Box::new(S::Choices::default());
        }
        match entry.downcast_mut::<S::Choices>() {
            Some(choices) => choices,
            None => unreachable!("the entry was given the stage's own choices just above"),
        }
    }
}

/// A stage's result with what it was made from.
struct Slot {
    /// An `Arc<S::Output>`.
    output: Box<dyn Any + Send + Sync>,
    /// An `S::Params`.
    params: Box<dyn Any + Send + Sync>,
}

/// A run ready to go: the inputs and params are captured, so the work can
/// move to any thread.
pub struct StageRun {
    pub stage: StageKey,
    pub label: String,
    /// The versions of the inputs it was prepared from: when any has changed
    /// by the time it finishes, its result is dropped.
    inputs: Vec<(StageKey, u64)>,
    params: Box<dyn Any + Send + Sync>,
    work: RunWork,
}

impl StageRun {
    /// Splits the run into what the pipeline keeps and the work to do.
    pub fn into_work(self) -> (RunTicket, RunWork) {
        let StageRun { stage, inputs, params, work, .. } = self;
        (RunTicket { stage, inputs, params }, work)
    }
}

/// The work of a [`StageRun`]: its output, boxed.
pub type RunWork = Box<dyn FnOnce(&dyn Progress) -> Result<Box<dyn Any + Send + Sync>, StageError> + Send>;

/// What the pipeline needs back with a run's output to accept it.
pub struct RunTicket {
    pub stage: StageKey,
    inputs: Vec<(StageKey, u64)>,
    params: Box<dyn Any + Send + Sync>,
}

impl RunTicket {
    pub fn with_output(self, output: Box<dyn Any + Send + Sync>) -> FinishedRun {
        FinishedRun { stage: self.stage, inputs: self.inputs, params: self.params, output }
    }
}

/// A run that has ended, ready for [`Flow::accept`].
pub struct FinishedRun {
    pub stage: StageKey,
    inputs: Vec<(StageKey, u64)>,
    params: Box<dyn Any + Send + Sync>,
    output: Box<dyn Any + Send + Sync>,
}

/// What accepting a result changed.
#[derive(Debug, Default, PartialEq)]
pub struct Accepted {
    /// Whether the result was kept (false: its inputs changed meanwhile).
    pub kept: bool,
    /// Results that were made from the replaced one, now cleared (their jobs
    /// should stop: they would be dropped anyway).
    pub cleared: Vec<StageKey>,
    /// Stages that follow their inputs and now have them all: run these next.
    pub next: Vec<StageKey>,
}

/// A stage as the pipeline holds it, its types erased.
trait ErasedStage: Send + Sync {
    fn key(&self) -> StageKey;
    fn needs(&self) -> Vec<StageKey>;
    fn follows_inputs(&self) -> bool;
    fn prepare(&self, flow: &Flow, params: Option<Box<dyn Any + Send + Sync>>) -> Option<StageRun>;
    fn is_current(&self, flow: &Flow, params: &(dyn Any + Send + Sync)) -> bool;
    fn save_choices(&self, choices: &Choices) -> serde_json::Value;
    fn restore_choices(&self, choices: &mut Choices, saved: &serde_json::Value) -> Result<(), String>;
}

struct Declared<S: Stage>(std::marker::PhantomData<fn() -> S>);

impl<S: Stage> ErasedStage for Declared<S> {
    fn key(&self) -> StageKey {
        StageKey::of::<S>()
    }

    fn needs(&self) -> Vec<StageKey> {
        S::Needs::keys()
    }

    fn follows_inputs(&self) -> bool {
        S::FOLLOWS_INPUTS
    }

    fn prepare(&self, flow: &Flow, params: Option<Box<dyn Any + Send + Sync>>) -> Option<StageRun> {
        let params: S::Params = match params {
            Some(p) => *p.downcast::<S::Params>().ok()?,
            None => S::params(&flow.choices)?,
        };
        let inputs = S::Needs::fetch(flow)?;
        let versions = S::Needs::keys().into_iter().map(|k| (k, flow.version_of(k))).collect();
        let captured = params.clone();
        Some(StageRun {
            stage: self.key(),
            label: S::label(&params),
            inputs: versions,
            params: Box::new(params),
            work: Box::new(move |progress| {
                S::run(inputs, &captured, progress).map(|o| Box::new(Arc::new(o)) as Box<dyn Any + Send + Sync>)
            }),
        })
    }

    fn is_current(&self, flow: &Flow, made_with: &(dyn Any + Send + Sync)) -> bool {
        match (S::params(&flow.choices), made_with.downcast_ref::<S::Params>()) {
            (Some(now), Some(then)) => now == *then,
            // A stage whose params come from elsewhere (a load's file) is current as made.
            (None, _) => true,
            _ => false,
        }
    }

    fn save_choices(&self, choices: &Choices) -> serde_json::Value {
        serde_json::to_value(choices.of::<S>()).unwrap_or(serde_json::Value::Null)
    }

    fn restore_choices(&self, choices: &mut Choices, saved: &serde_json::Value) -> Result<(), String> {
        let decoded: S::Choices = serde_json::from_value(saved.clone()).map_err(|e| format!("{}: {e}", S::NAME))?;
        *choices.of_mut::<S>() = decoded;
        Ok(())
    }
}

/// The declared stages, in flow order.
pub struct StageList(Vec<Box<dyn ErasedStage>>);

impl StageList {
    pub fn new() -> StageList {
        StageList(Vec::new())
    }

    /// Adds `S`; what it needs must be declared before it.
    pub fn with<S: Stage>(mut self) -> StageList {
        self.0.push(Box::new(Declared::<S>(std::marker::PhantomData)));
        self
    }

    pub fn keys(&self) -> Vec<StageKey> {
        self.0.iter().map(|s| s.key()).collect()
    }
}

impl Default for StageList {
    fn default() -> Self {
        StageList::new()
    }
}

/// The results of every stage, the choices that shape them, and the rules
/// that keep them consistent.
pub struct Flow {
    stages: StageList,
    pub choices: Choices,
    slots: HashMap<StageKey, Slot>,
    /// Each stage's result version, bumped whenever it is replaced or cleared
    /// (kept after a clear, so that a run prepared before it is recognised).
    versions: HashMap<StageKey, u64>,
    next_version: u64,
    /// Results replaced or cleared since the last [`Flow::take_retired`]:
    /// freeing one can take long (a million customers' plan), so the caller
    /// decides on which thread it happens.
    retired: Vec<Box<dyn Any + Send + Sync>>,
}

impl Flow {
    pub fn new(stages: StageList) -> Flow {
        Flow {
            stages,
            choices: Choices::default(),
            slots: HashMap::new(),
            versions: HashMap::new(),
            next_version: 1,
            retired: Vec::new(),
        }
    }

    /// The declared stages in flow order.
    pub fn stages(&self) -> Vec<StageKey> {
        self.stages.keys()
    }

    fn stage(&self, key: StageKey) -> Option<&dyn ErasedStage> {
        self.stages.0.iter().find(|s| s.key() == key).map(|s| &**s)
    }

    /// The current result of `S`.
    pub fn get<S: Stage>(&self) -> Option<&Arc<S::Output>> {
        self.slots.get(&StageKey::of::<S>())?.output.downcast_ref::<Arc<S::Output>>()
    }

    pub fn has(&self, key: StageKey) -> bool {
        self.slots.contains_key(&key)
    }

    /// Whether the result of `S` no longer matches the choices (a run would change it).
    pub fn is_stale<S: Stage>(&self) -> bool {
        let key = StageKey::of::<S>();
        match (self.slots.get(&key), self.stage(key)) {
            (Some(slot), Some(stage)) => !stage.is_current(self, &*slot.params),
            _ => false,
        }
    }

    fn version_of(&self, key: StageKey) -> u64 {
        self.versions.get(&key).copied().unwrap_or(0)
    }

    /// A run of `key` with the current choices, if its inputs are there and it can run.
    pub fn prepare(&self, key: StageKey) -> Option<StageRun> {
        self.stage(key)?.prepare(self, None)
    }

    /// A run of `S` with these params instead of the choices' (a load of a file).
    pub fn prepare_with<S: Stage>(&self, params: S::Params) -> Option<StageRun> {
        self.stage(StageKey::of::<S>())?.prepare(self, Some(Box::new(params)))
    }

    /// Whether every stage that runs by itself has its result, or cannot run
    /// (an input or a choice is missing): nothing more will start on its own.
    pub fn is_settled(&self) -> bool {
        self.stages
            .0
            .iter()
            .filter(|s| s.follows_inputs())
            .all(|s| self.has(s.key()) || s.prepare(self, None).is_none())
    }

    /// The stages that need `key`, directly or through others, in flow order.
    fn downstream_of(&self, key: StageKey) -> Vec<StageKey> {
        let mut found: Vec<StageKey> = Vec::new();
        for stage in &self.stages.0 {
            if stage.needs().iter().any(|n| *n == key || found.contains(n)) {
                found.push(stage.key());
            }
        }
        found
    }

    /// Keeps a finished run's result unless its inputs changed meanwhile;
    /// results made from the replaced one are cleared, and the stages that
    /// follow their inputs and now have them all are named to run next.
    pub fn accept(&mut self, run: FinishedRun) -> Accepted {
        if run.inputs.iter().any(|(k, v)| !self.has(*k) || self.version_of(*k) != *v) {
            return Accepted::default();
        }
        self.bump(run.stage);
        if let Some(old) = self.slots.insert(run.stage, Slot { output: run.output, params: run.params }) {
            self.retired.push(old.output);
        }
        let cleared: Vec<StageKey> = self.downstream_of(run.stage);
        for key in &cleared {
            if let Some(old) = self.slots.remove(key) {
                self.retired.push(old.output);
                self.bump(*key);
            }
        }
        let next = self
            .stages
            .0
            .iter()
            .filter(|s| s.follows_inputs() && cleared.contains(&s.key()) && s.needs().iter().all(|n| self.has(*n)))
            .map(|s| s.key())
            .collect();
        Accepted { kept: true, cleared, next }
    }

    /// The results replaced or cleared since the last call, to be freed by the caller.
    pub fn take_retired(&mut self) -> Vec<Box<dyn Any + Send + Sync>> {
        std::mem::take(&mut self.retired)
    }

    fn bump(&mut self, key: StageKey) -> u64 {
        let v = self.next_version;
        self.next_version += 1;
        self.versions.insert(key, v);
        v
    }

    /// Every stage's choices, keyed by stage name, for saving.
    pub fn save_choices(&self) -> serde_json::Map<String, serde_json::Value> {
        self.stages.0.iter().map(|s| (s.key().name.to_string(), s.save_choices(&self.choices))).collect()
    }

    /// Restores saved choices; a stage whose entry does not decode keeps its
    /// defaults, and the problems are returned for the user.
    pub fn restore_choices(&mut self, saved: &serde_json::Map<String, serde_json::Value>) -> Vec<String> {
        let mut problems = Vec::new();
        for stage in &self.stages.0 {
            if let Some(value) = saved.get(stage.key().name)
                && let Err(e) = stage.restore_choices(&mut self.choices, value)
            {
                problems.push(e);
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::progress::Silent;

    /// A root stage: yields its param.
    struct Source;
    impl Stage for Source {
        const NAME: &'static str = "source";
        type Needs = ();
        type Choices = ();
        type Params = u32;
        type Output = u32;
        fn params(_: &Choices) -> Option<u32> {
            None
        }
        fn label(p: &u32) -> String {
            format!("source {p}")
        }
        fn run(_: (), p: &u32, _: &dyn Progress) -> Result<u32, StageError> {
            Ok(*p)
        }
    }

    /// Doubles its input, times a chosen factor.
    struct Double;
    impl Stage for Double {
        const NAME: &'static str = "double";
        type Needs = (Source,);
        type Choices = u32;
        type Params = u32;
        type Output = u32;
        fn params(c: &Choices) -> Option<u32> {
            Some(c.of::<Double>().max(1))
        }
        fn label(_: &u32) -> String {
            "double".into()
        }
        fn run((x,): (Arc<u32>,), factor: &u32, _: &dyn Progress) -> Result<u32, StageError> {
            Ok(*x * 2 * factor)
        }
    }

    /// Adds the two: needs both, runs only when asked.
    struct Sum;
    impl Stage for Sum {
        const NAME: &'static str = "sum";
        const FOLLOWS_INPUTS: bool = false;
        type Needs = (Source, Double);
        type Choices = ();
        type Params = ();
        type Output = u32;
        fn params(_: &Choices) -> Option<()> {
            Some(())
        }
        fn label(_: &()) -> String {
            "sum".into()
        }
        fn run((a, b): (Arc<u32>, Arc<u32>), _: &(), _: &dyn Progress) -> Result<u32, StageError> {
            Ok(*a + *b)
        }
    }

    fn flow() -> Flow {
        Flow::new(StageList::new().with::<Source>().with::<Double>().with::<Sum>())
    }

    fn run(flow: &mut Flow, run: StageRun) -> Accepted {
        let (ticket, work) = run.into_work();
        let output = work(&Silent).unwrap();
        flow.accept(ticket.with_output(output))
    }

    #[test]
    fn a_result_runs_on_into_the_stages_that_follow_it() {
        let mut f = flow();
        assert!(f.prepare(StageKey::of::<Double>()).is_none(), "no input yet");
        assert!(f.is_settled(), "nothing can start on its own");
        let a = {
            let r = f.prepare_with::<Source>(3).unwrap();
            run(&mut f, r)
        };
        assert!(!f.is_settled(), "double can run now");
        assert!(a.kept);
        assert_eq!(a.next, vec![StageKey::of::<Double>()], "the stage that asks to be run is not started");
        let a = {
            let r = f.prepare(StageKey::of::<Double>()).unwrap();
            run(&mut f, r)
        };
        assert!(a.next.is_empty());
        assert_eq!(**f.get::<Double>().unwrap(), 6);
        assert!(f.is_settled(), "the sum runs only when asked");
        {
            let r = f.prepare(StageKey::of::<Sum>()).unwrap();
            run(&mut f, r)
        };
        assert_eq!(**f.get::<Sum>().unwrap(), 9);
    }

    #[test]
    fn replaced_and_cleared_results_are_handed_back_to_be_freed() {
        let mut f = flow();
        for x in [3, 4] {
            let r = f.prepare_with::<Source>(x).unwrap();
            run(&mut f, r);
            let r = f.prepare(StageKey::of::<Double>()).unwrap();
            run(&mut f, r);
        }
        // The first source, replaced, and the first double, cleared by the second source.
        let retired: Vec<u32> = f.take_retired().into_iter().map(|b| **b.downcast::<Arc<u32>>().unwrap()).collect();
        assert_eq!(retired, vec![3, 6]);
        assert!(f.take_retired().is_empty(), "handed back once");
        assert_eq!(**f.get::<Double>().unwrap(), 8);
    }

    #[test]
    fn a_new_input_clears_what_was_made_from_the_old_one() {
        let mut f = flow();
        {
            let r = f.prepare_with::<Source>(3).unwrap();
            run(&mut f, r)
        };
        {
            let r = f.prepare(StageKey::of::<Double>()).unwrap();
            run(&mut f, r)
        };
        {
            let r = f.prepare(StageKey::of::<Sum>()).unwrap();
            run(&mut f, r)
        };
        let a = {
            let r = f.prepare_with::<Source>(5).unwrap();
            run(&mut f, r)
        };
        assert_eq!(a.cleared, vec![StageKey::of::<Double>(), StageKey::of::<Sum>()]);
        assert!(f.get::<Double>().is_none() && f.get::<Sum>().is_none());
    }

    #[test]
    fn a_run_prepared_from_replaced_inputs_is_dropped() {
        let mut f = flow();
        {
            let r = f.prepare_with::<Source>(3).unwrap();
            run(&mut f, r)
        };
        let old = f.prepare(StageKey::of::<Double>()).unwrap();
        {
            let r = f.prepare_with::<Source>(5).unwrap();
            run(&mut f, r)
        };
        let a = run(&mut f, old);
        assert!(!a.kept);
        assert!(f.get::<Double>().is_none(), "6 was made from the old source");
    }

    #[test]
    fn changed_choices_mark_a_result_stale_until_it_runs_again() {
        let mut f = flow();
        {
            let r = f.prepare_with::<Source>(3).unwrap();
            run(&mut f, r)
        };
        {
            let r = f.prepare(StageKey::of::<Double>()).unwrap();
            run(&mut f, r)
        };
        assert!(!f.is_stale::<Double>());
        *f.choices.of_mut::<Double>() = 10;
        assert!(f.is_stale::<Double>());
        assert!(!f.is_stale::<Source>(), "a stage given its params is current as made");
        {
            let r = f.prepare(StageKey::of::<Double>()).unwrap();
            run(&mut f, r)
        };
        assert_eq!(**f.get::<Double>().unwrap(), 60);
        assert!(!f.is_stale::<Double>());
    }

    #[test]
    fn choices_are_saved_by_stage_name_and_a_broken_entry_keeps_its_defaults() {
        let mut f = flow();
        *f.choices.of_mut::<Double>() = 7;
        let saved = f.save_choices();
        assert_eq!(saved.get("double"), Some(&serde_json::json!(7)));
        let mut g = flow();
        assert!(g.restore_choices(&saved).is_empty());
        assert_eq!(g.choices.of::<Double>(), 7);
        let mut broken = serde_json::Map::new();
        broken.insert("double".into(), serde_json::json!("seven"));
        let problems = flow().restore_choices(&broken);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].starts_with("double:"));
    }
}
