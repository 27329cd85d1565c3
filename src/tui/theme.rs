//! Colour themes: `themes/*.toml` shipped in the repository, overridable by
//! `<config dir>/themes/<name>.toml`, or a path to a theme file. `NO_COLOR` means `mono`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

/// Themes compiled into the binary, so the app works from any directory.
const SHIPPED: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    ("mono", include_str!("../../themes/mono.toml")),
];

#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error("unknown theme `{name}`: not shipped (dark, light, mono) and no file {path}")]
    Unknown { name: String, path: PathBuf },
    #[error("cannot read theme file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("invalid theme file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("theme file {path}: `{field}` = \"{value}\" is not a colour (a name, #rrggbb or 0-255)")]
    BadColor { path: PathBuf, field: String, value: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: String,
    #[serde(default)]
    reverse_selection: bool,
    colors: BTreeMap<String, String>,
    #[serde(default)]
    moods: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    pub fg: Color,
    pub bg: Color,
    pub accent: Color,
    pub muted: Color,
    pub title: Color,
    pub selection_fg: Color,
    pub selection_bg: Color,
    pub ok: Color,
    pub warning: Color,
    pub error: Color,
    pub query: Color,
    reverse_selection: bool,
    moods: BTreeMap<String, Color>,
}

impl Theme {
    /// The theme named in the config (`name` or a path), honouring `NO_COLOR`.
    pub fn load(name: &str, config_dir: &Path) -> Result<Self, ThemeError> {
        if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            return Self::shipped("mono");
        }
        let as_path = Path::new(name);
        if name.ends_with(".toml") || as_path.components().count() > 1 {
            return Self::from_file(as_path);
        }
        let user = config_dir.join("themes").join(format!("{name}.toml"));
        if user.is_file() {
            return Self::from_file(&user);
        }
        Self::shipped(name).map_err(|_| ThemeError::Unknown { name: name.into(), path: user })
    }

    pub fn shipped(name: &str) -> Result<Self, ThemeError> {
        let path = PathBuf::from(format!("themes/{name}.toml"));
        match SHIPPED.iter().find(|(n, _)| *n == name) {
            Some((_, text)) => Self::parse(text, &path),
            None => Err(ThemeError::Unknown { name: name.into(), path }),
        }
    }

    pub fn from_file(path: &Path) -> Result<Self, ThemeError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ThemeError::Read { path: path.into(), source })?;
        Self::parse(&text, path)
    }

    fn parse(text: &str, path: &Path) -> Result<Self, ThemeError> {
        let file: ThemeFile = toml::from_str(text)
            .map_err(|e| ThemeError::Parse { path: path.into(), message: e.to_string() })?;
        let color = |field: &str, value: &str| {
            Color::from_str(value).map_err(|_| ThemeError::BadColor {
                path: path.into(),
                field: field.into(),
                value: value.into(),
            })
        };
        let get = |field: &str| match file.colors.get(field) {
            Some(v) => color(&format!("colors.{field}"), v),
            None => Ok(Color::Reset),
        };
        let moods = file
            .moods
            .iter()
            .map(|(mood, v)| Ok((mood.clone(), color(&format!("moods.{mood}"), v)?)))
            .collect::<Result<_, ThemeError>>()?;
        Ok(Self {
            name: file.name.clone(),
            fg: get("fg")?,
            bg: get("bg")?,
            accent: get("accent")?,
            muted: get("muted")?,
            title: get("title")?,
            selection_fg: get("selection_fg")?,
            selection_bg: get("selection_bg")?,
            ok: get("ok")?,
            warning: get("warning")?,
            error: get("error")?,
            query: get("query")?,
            reverse_selection: file.reverse_selection,
            moods,
        })
    }

    pub fn base(&self) -> Style {
        Style::default().fg(self.fg).bg(self.bg)
    }

    pub fn muted(&self) -> Style {
        Style::default().fg(self.muted)
    }

    pub fn title(&self) -> Style {
        Style::default().fg(self.title).add_modifier(Modifier::BOLD)
    }

    pub fn accent(&self) -> Style {
        Style::default().fg(self.accent)
    }

    pub fn selection(&self) -> Style {
        let s = Style::default().fg(self.selection_fg).bg(self.selection_bg).add_modifier(Modifier::BOLD);
        if self.reverse_selection {
            s.add_modifier(Modifier::REVERSED)
        } else {
            s
        }
    }

    pub fn error(&self) -> Style {
        Style::default().fg(self.error).add_modifier(Modifier::BOLD)
    }

    pub fn warning(&self) -> Style {
        Style::default().fg(self.warning)
    }

    pub fn ok(&self) -> Style {
        Style::default().fg(self.ok)
    }

    /// The query on the map and in tables.
    pub fn query(&self) -> Style {
        Style::default().fg(self.query)
    }

    /// Colour of a mood label; labels outside the theme get a stable pick from its palette.
    pub fn mood(&self, label: &str) -> Color {
        if let Some(c) = self.moods.get(&label.to_ascii_lowercase()) {
            return *c;
        }
        let palette: Vec<Color> = self.moods.values().copied().collect();
        if palette.is_empty() {
            return self.accent;
        }
        let h = label.bytes().fold(7usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize));
        palette[h % palette.len()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_themes_parse() {
        for (name, _) in SHIPPED {
            let t = Theme::shipped(name).unwrap();
            assert_eq!(&t.name, name);
        }
        assert_eq!(Theme::shipped("dark").unwrap().mood("sad"), Color::Blue);
    }

    #[test]
    fn user_theme_overrides_and_bad_colour_names_the_field() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("themes")).unwrap();
        let text =
            include_str!("../../themes/dark.toml").replace("accent = \"cyan\"", "accent = \"#102030\"");
        std::fs::write(dir.path().join("themes/dark.toml"), &text).unwrap();
        if std::env::var_os("NO_COLOR").is_none() {
            assert_eq!(Theme::load("dark", dir.path()).unwrap().accent, Color::Rgb(0x10, 0x20, 0x30));
        }
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, text.replace("\"#102030\"", "\"blurple\"")).unwrap();
        let err = Theme::from_file(&bad).unwrap_err().to_string();
        assert!(
            err.contains("bad.toml") && err.contains("colors.accent") && err.contains("blurple"),
            "{err}"
        );
        let err = Theme::shipped("neon").unwrap_err().to_string();
        assert!(err.contains("neon"), "{err}");
    }
}
