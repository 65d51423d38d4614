//! Design tokens in one place: spacing, sizes, the segment palette and the
//! fonts (with CJK and symbols), applied once at start-up. Light and dark follow the system.

use egui::{Color32, FontData, FontDefinitions, FontFamily};

/// Outer margin of panels and gap between blocks.
pub const SPACE: f32 = 8.0;
pub const SPACE_LARGE: f32 = 16.0;
/// Width of the settings column of each screen.
pub const SETTINGS_WIDTH: f32 = 290.0;
pub const NAV_WIDTH: f32 = 170.0;
pub const ROW_HEIGHT: f32 = 20.0;
pub const HEADING_SIZE: f32 = 18.0;
pub const BODY_SIZE: f32 = 13.5;

/// Segment colours, distinguishable in light and dark themes (Tableau 10 and
/// two more, so that the 11 RFM groups and k up to 12 never share a colour).
pub const SEGMENT_COLOURS: [Color32; 12] = [
    Color32::from_rgb(78, 121, 167),
    Color32::from_rgb(242, 142, 43),
    Color32::from_rgb(89, 161, 79),
    Color32::from_rgb(225, 87, 89),
    Color32::from_rgb(118, 183, 178),
    Color32::from_rgb(237, 201, 72),
    Color32::from_rgb(176, 122, 161),
    Color32::from_rgb(255, 157, 167),
    Color32::from_rgb(156, 117, 95),
    Color32::from_rgb(186, 176, 172),
    Color32::from_rgb(31, 119, 120),
    Color32::from_rgb(188, 128, 40),
];
/// Customers without a purchase.
pub const NO_PURCHASE_COLOUR: Color32 = Color32::from_rgb(150, 150, 150);

pub fn segment_colour(segment: i32) -> Color32 {
    if segment < 0 { NO_PURCHASE_COLOUR } else { SEGMENT_COLOURS[segment as usize % SEGMENT_COLOURS.len()] }
}

pub const ERROR: Color32 = Color32::from_rgb(220, 70, 70);
pub const WARNING: Color32 = Color32::from_rgb(214, 150, 30);
pub const GOOD: Color32 = Color32::from_rgb(60, 160, 90);

/// The bundled CJK subset (SIL OFL, see assets/fonts/README.md).
const BUNDLED_CJK: &[u8] = include_bytes!("../../assets/fonts/NotoSansSC-subset.otf");

/// The bundled symbol subset of DejaVu Sans (free licence, see
/// assets/fonts/README.md): arrows, triangles, ⚠ and the like, which neither
/// egui's default fonts nor the CJK subset have.
const BUNDLED_SYMBOLS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-symbols.ttf");

/// System fonts with full CJK coverage, preferred over the subset when present.
const SYSTEM_CJK: [(&str, u32); 4] = [
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/opentype/source-han-sans/SourceHanSansSC-Regular.otf", 0),
    ("/System/Library/Fonts/PingFang.ttc", 0),
];

/// Whether [`fonts`] may use a font installed on the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SystemFonts {
    /// A full system CJK font where one is installed (it covers any Chinese
    /// text a user imports, the bundled subset only the common hanzi), else the
    /// bundled subset. What the app uses.
    Prefer,
    /// Only the fonts compiled into the binary, so text renders the same on
    /// every machine and a developer's installed fonts cannot hide a missing
    /// glyph. What the tests use.
    Ignore,
}

/// egui's default fonts (Ubuntu-Light, Hack, egui-icons), then a CJK font,
/// then the bundled symbols, for proportional and monospace text.
pub fn fonts(system: SystemFonts) -> FontDefinitions {
    let mut fonts = FontDefinitions::default();
    let system_cjk = match system {
        SystemFonts::Prefer => SYSTEM_CJK.iter().find_map(|(path, index)| {
            std::fs::read(path).ok().map(|bytes| FontData { index: *index, ..FontData::from_owned(bytes) })
        }),
        SystemFonts::Ignore => None,
    };
    let cjk = system_cjk.unwrap_or_else(|| FontData::from_static(BUNDLED_CJK));
    fonts.font_data.insert("cjk".into(), cjk.into());
    fonts.font_data.insert("symbols".into(), FontData::from_static(BUNDLED_SYMBOLS).into());
    for family in [FontFamily::Proportional, FontFamily::Monospace] {
        fonts.families.entry(family).or_default().extend(["cjk".into(), "symbols".into()]);
    }
    fonts
}

/// Installs fonts (preferring a system CJK font) and text sizes: the app.
/// The window's background is cleared to the panel colour (see
/// `PromoStudioApp::clear_color`) and panels paint no fill of their own: a
/// software renderer (VMs, remote desktops, CI) shades every pixel of every
/// full-window fill, and the nested panels of a screen were three of them.
pub fn central_panel(ui: &egui::Ui) -> egui::CentralPanel {
    egui::CentralPanel::default().frame(egui::Frame::central_panel(ui.style()).fill(Color32::TRANSPARENT))
}

/// A side, top or bottom panel without a fill of its own (see [`central_panel`]).
pub fn side_panel_frame(ui: &egui::Ui) -> egui::Frame {
    egui::Frame::side_top_panel(ui.style()).fill(Color32::TRANSPARENT)
}

pub fn apply(ctx: &egui::Context) {
    apply_with(ctx, SystemFonts::Prefer);
}

/// Installs the bundled fonts only and text sizes: tests, which must render
/// (and find missing glyphs) the same on every machine.
pub fn apply_bundled_only(ctx: &egui::Context) {
    apply_with(ctx, SystemFonts::Ignore);
}

/// Installs fonts and text sizes.
pub fn apply_with(ctx: &egui::Context, system: SystemFonts) {
    ctx.set_fonts(fonts(system));
    ctx.all_styles_mut(|style| {
        use egui::{FontId, TextStyle};
        style.text_styles.insert(TextStyle::Heading, FontId::proportional(HEADING_SIZE));
        style.text_styles.insert(TextStyle::Body, FontId::proportional(BODY_SIZE));
        style.text_styles.insert(TextStyle::Button, FontId::proportional(BODY_SIZE));
        style.spacing.item_spacing = egui::vec2(SPACE, 6.0);
        style.spacing.button_padding = egui::vec2(10.0, 4.0);
    });
}
