//! The evaluation as one self-contained HTML page: the metric tables, the calibration and
//! threshold plots (inline SVG drawn with plotters), the breakdowns and the worst errors.
//!
//! Nothing on the page is fetched: styles are inline, plots are inline SVG, and every piece of
//! text that comes from the data is HTML-escaped.

use std::fmt::Write as _;

use plotters::coord::{types::RangedCoordf64, Shift};
use plotters::prelude::*;

use super::errors::{
    count_by_kind, elide, most_confident_wrong, Breakdown, ErrorCase, GroupCounts,
};
use super::metrics::{EvalReport, Prf, DIGRAPH_ROWS_NOTE};
use super::threshold::{confidence_histogram, threshold_curve, HistogramBin, ThresholdPoint};
use crate::html::escape_html;
use crate::record::{MentionKind, QuoteKind, SpanRecord};
use crate::{Error, Result};

/// Rows in each list of worst errors.
const WORST_ERRORS: usize = 30;
/// Threshold steps of the precision-recall plot; the table shows every tenth.
const CURVE_STEPS: usize = 100;
/// Bins of the confidence histogram (the reliability diagram keeps the calibration's 10).
const HISTOGRAM_BINS: usize = 20;
const PLOT_SIZE: (u32, u32) = (520, 380);
const FONT: &str = "sans-serif";

const BLUE: RGBColor = RGBColor(31, 119, 180);
const ORANGE: RGBColor = RGBColor(255, 127, 14);
const GREEN: RGBColor = RGBColor(44, 160, 44);
const GREY: RGBColor = RGBColor(150, 150, 150);

const STYLE: &str =
    "body{font-family:sans-serif;margin:2em auto;max-width:1150px;color:#222;padding:0 1em}\
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;margin:.8em 0;font-size:.9em}\
th,td{border:1px solid #ddd;padding:.25em .55em;text-align:left;vertical-align:top}\
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f4f4f4}\
.plots{display:flex;flex-wrap:wrap;gap:1em}.plots svg{border:1px solid #eee}\
table.cases{table-layout:fixed;width:100%}table.cases td{overflow-wrap:anywhere}\
.ctx{font-family:monospace;font-size:.85em;color:#444}.muted{color:#777}";

/// What the page shows.
pub struct ReportInputs<'a> {
    /// Where the gold came from, and the predictions (for the page's header).
    pub gold: &'a str,
    pub predictions: &'a str,
    pub report: &'a EvalReport,
    /// `(confidence, correct)` per predicted quote, as [`super::calibration_pairs`] gives them.
    pub pairs: &'a [(f64, bool)],
    pub breakdown: &'a Breakdown,
    pub errors: &'a [ErrorCase],
}

/// Renders the page.
pub fn html_report(inputs: &ReportInputs) -> Result<String> {
    let report = inputs.report;
    // Recall of a cut-off is over the gold that an end-to-end match can find.
    let gold_with_source = report.end_to_end.tp + report.end_to_end.fn_;
    let curve = threshold_curve(inputs.pairs, gold_with_source, CURVE_STEPS);
    let histogram = confidence_histogram(inputs.pairs, HISTOGRAM_BINS);

    let mut page = String::new();
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    page.push_str("<title>whosaid evaluation</title><style>");
    page.push_str(STYLE);
    page.push_str("</style></head><body>\n<h1>whosaid evaluation</h1>\n");
    let _ = writeln!(
        page,
        "<p>Gold: <code>{}</code><br>Predictions: {}</p>",
        escape_html(inputs.gold),
        escape_html(inputs.predictions)
    );

    page.push_str("<h2>Scores</h2>\n");
    metric_tables(&mut page, report);

    page.push_str("<h2>Confidence</h2>\n<p>A prediction is correct when it is an end-to-end match (content and source overlap, IoU &ge; 0.5).</p>\n<div class=\"plots\">");
    page.push_str(&reliability_plot(report)?);
    page.push_str(&histogram_plot(&histogram)?);
    page.push_str("</div>\n");
    calibration_table(&mut page, report);

    page.push_str("<h2>Choosing a confidence cut-off</h2>\n");
    let _ = writeln!(
        page,
        "<p>Precision over the quotes kept (confidence &ge; threshold; a quote without a speaker mention is kept and counts as wrong), recall over the {gold_with_source} gold attributions with a source.</p>"
    );
    page.push_str("<div class=\"plots\">");
    page.push_str(&threshold_plot(&curve)?);
    page.push_str("</div>\n");
    threshold_table(&mut page, &curve);

    page.push_str("<h2>Breakdowns</h2>\n<p>Gold types and gold source kinds are read off the gold text (a content with double quotation marks is direct when it opens and closes with one, mixed otherwise); predictions are grouped by their own type and mention kind. Found: matched by content overlap.</p>\n");
    breakdown_table(
        &mut page,
        "quote type",
        inputs
            .breakdown
            .by_type
            .iter()
            .map(|row| (type_label(row.key), row.counts)),
    );
    breakdown_table(
        &mut page,
        "source kind",
        inputs
            .breakdown
            .by_source_kind
            .iter()
            .map(|row| (source_label(row.key), row.counts)),
    );

    page.push_str("<h2>Errors</h2>\n");
    error_counts(&mut page, inputs.errors);
    let worst = most_confident_wrong(inputs.errors, WORST_ERRORS);
    let _ = writeln!(
        page,
        "<h3>The {} most confident wrong attributions</h3>",
        worst.len()
    );
    case_table(&mut page, &worst);
    let misses: Vec<&ErrorCase> = inputs
        .errors
        .iter()
        .filter(|case| case.predicted.is_none())
        .take(WORST_ERRORS)
        .collect();
    let _ = writeln!(
        page,
        "<h3>Missed attributions (the first {})</h3>",
        misses.len()
    );
    case_table(&mut page, &misses);
    page.push_str("</body></html>\n");
    Ok(page)
}

fn percent(value: f64) -> String {
    format!("{:.1}", value * 100.0)
}

fn ratio(numerator: usize, denominator: usize) -> String {
    if denominator == 0 {
        "–".to_owned()
    } else {
        percent(numerator as f64 / denominator as f64)
    }
}

fn type_label(kind: QuoteKind) -> &'static str {
    match kind {
        QuoteKind::Direct => "direct",
        QuoteKind::Mixed => "mixed",
        QuoteKind::Indirect => "indirect",
    }
}

fn source_label(kind: Option<MentionKind>) -> &'static str {
    match kind {
        Some(MentionKind::Name) => "name",
        Some(MentionKind::Pronoun) => "pronoun",
        Some(MentionKind::Nominal) => "nominal",
        None => "none",
    }
}

fn metric_tables(page: &mut String, report: &EvalReport) {
    let _ = writeln!(
        page,
        "<p>Documents: {} gold, {} predicted, {} matched, {} without prediction, {} predictions ignored.<br>Attributions: {} gold ({} direct), {} predicted ({} direct or mixed).</p>",
        report.gold_documents,
        report.predicted_documents,
        report.matched_documents,
        report.missing_documents,
        report.ignored_documents,
        report.gold_attributions,
        report.direct.gold_attributions,
        report.predicted_quotes,
        report.direct.predicted_quotes
    );
    page.push_str("<table id=\"metrics\"><tr><th>measure</th><th>P</th><th>R</th><th>F1</th><th>tp</th><th>fp</th><th>fn</th></tr>\n");
    for (name, prf) in report.rows().into_iter().chain(report.digraph_rows()) {
        prf_row(page, name, prf);
    }
    page.push_str("</table>\n");
    let _ = writeln!(page, "<p>{}</p>", escape_html(DIGRAPH_ROWS_NOTE));
    let calibration = &report.calibration;
    match (calibration.ece, calibration.brier) {
        (Some(ece), Some(brier)) => {
            let _ = writeln!(
                page,
                "<p>Calibration over {} predictions ({} correct): ECE {}%, Brier {:.3}.</p>",
                calibration.predictions,
                calibration.correct,
                percent(ece),
                brier
            );
        }
        _ => page.push_str("<p>Calibration: no predictions.</p>\n"),
    }
}

fn prf_row(page: &mut String, name: &str, prf: &Prf) {
    let _ = writeln!(
        page,
        "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
        escape_html(name),
        percent(prf.precision),
        percent(prf.recall),
        percent(prf.f1),
        prf.tp,
        prf.fp,
        prf.fn_
    );
}

fn calibration_table(page: &mut String, report: &EvalReport) {
    page.push_str("<table id=\"calibration\"><tr><th>confidence</th><th>predictions</th><th>mean confidence</th><th>observed accuracy</th></tr>\n");
    let shown = |value: Option<f64>| value.map_or_else(|| "–".to_owned(), |v| format!("{v:.2}"));
    for bin in &report.calibration.bins {
        let _ = writeln!(
            page,
            "<tr><td>{:.1}–{:.1}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            bin.lower,
            bin.upper,
            bin.count,
            shown(bin.mean_confidence),
            shown(bin.accuracy)
        );
    }
    page.push_str("</table>\n");
}

fn threshold_table(page: &mut String, curve: &[ThresholdPoint]) {
    page.push_str("<table id=\"thresholds\"><tr><th>threshold</th><th>kept</th><th>correct</th><th>P</th><th>R</th><th>F1</th></tr>\n");
    let every = (CURVE_STEPS / 10).max(1);
    for point in curve.iter().step_by(every) {
        let _ = writeln!(
            page,
            "<tr><td class=\"n\">{:.1}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            point.threshold,
            point.kept,
            point.scores.tp,
            percent(point.scores.precision),
            percent(point.scores.recall),
            percent(point.scores.f1)
        );
    }
    page.push_str("</table>\n");
}

fn breakdown_table<'a>(
    page: &mut String,
    group: &str,
    rows: impl Iterator<Item = (&'a str, GroupCounts)>,
) {
    let _ = writeln!(
        page,
        "<table class=\"breakdown\"><tr><th>{}</th><th>gold</th><th>found (recall)</th><th>end-to-end recall</th><th>predicted</th><th>found (precision)</th><th>end-to-end precision</th></tr>",
        escape_html(group)
    );
    for (label, counts) in rows {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape_html(label),
            counts.gold,
            ratio(counts.gold_found, counts.gold),
            ratio(counts.gold_end_to_end, counts.gold),
            counts.predicted,
            ratio(counts.predicted_found, counts.predicted),
            ratio(counts.predicted_end_to_end, counts.predicted)
        );
    }
    page.push_str("</table>\n");
}

fn error_counts(page: &mut String, cases: &[ErrorCase]) {
    let _ = writeln!(
        page,
        "<p>{} error cases. One pair of quotes can show several (a boundary, a source and a cue error).</p>",
        cases.len()
    );
    page.push_str(
        "<table id=\"error-kinds\"><tr><th>kind</th><th>count</th><th>what it is</th></tr>\n",
    );
    for (kind, count) in count_by_kind(cases) {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td class=\"n\">{count}</td><td>{}</td></tr>",
            escape_html(kind.label()),
            escape_html(kind.description())
        );
    }
    page.push_str("</table>\n");
}

/// Characters of a span shown in the error tables; a longer one is elided in the middle, since its
/// offsets and the context already place it.
const SHOWN_SPAN_CHARS: usize = 160;

fn span_text(span: Option<&SpanRecord>) -> String {
    span.map_or_else(
        || "<span class=\"muted\">none</span>".to_owned(),
        |span| {
            format!(
                "{} <span class=\"muted\">{}–{}</span>",
                escape_html(&elide(&span.text, SHOWN_SPAN_CHARS)),
                span.start,
                span.end
            )
        },
    )
}

fn case_table(page: &mut String, cases: &[&ErrorCase]) {
    page.push_str("<table class=\"cases\"><tr><th style=\"width:9%\">kind</th><th style=\"width:5%\">conf.</th><th style=\"width:14%\">document</th><th>gold</th><th>predicted</th><th style=\"width:27%\">context</th></tr>\n");
    for case in cases {
        let side = |spans: Option<&super::errors::QuoteSpans>, predicted: bool| {
            spans.map_or_else(String::new, |spans| {
                let speaker = spans
                    .speaker
                    .as_deref()
                    .filter(|_| predicted)
                    .map(|name| format!(" ({})", escape_html(name)))
                    .unwrap_or_default();
                format!(
                    "<b>{}</b>: {}<br>source: {}{speaker}<br>cue: {}",
                    type_label(spans.kind),
                    span_text(Some(&spans.content)),
                    span_text(spans.source.as_ref()),
                    span_text(spans.cue.as_ref())
                )
            })
        };
        let confidence = case
            .predicted
            .as_ref()
            .and_then(|spans| spans.confidence)
            .map_or_else(String::new, |confidence| format!("{confidence:.2}"));
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td class=\"n\">{confidence}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"ctx\">{}</td></tr>",
            escape_html(case.kind.label()),
            escape_html(&case.doc_id),
            side(case.gold.as_ref(), false),
            side(case.predicted.as_ref(), true),
            escape_html(&case.context)
        );
    }
    page.push_str("</table>\n");
}

fn plot_error(error: impl std::fmt::Display) -> Error {
    Error::Report(error.to_string())
}

/// The legend box, drawn alike on every plot.
fn draw_legend<'a, 'b: 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, CT>,
    position: SeriesLabelPosition,
) -> Result<()> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(GREY)
        .label_font((FONT, 12))
        .draw()
        .map_err(plot_error)
}

/// A white chart over the unit square, with a caption, axis titles and eleven ticks a side.
fn unit_square_chart<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    caption: &str,
    x_desc: &str,
    y_desc: &str,
) -> Result<ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>> {
    root.fill(&WHITE).map_err(plot_error)?;
    let mut chart = ChartBuilder::on(root)
        .caption(caption, (FONT, 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(48)
        .build_cartesian_2d(0f64..1f64, 0f64..1f64)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_labels(11)
        .y_labels(11)
        .draw()
        .map_err(plot_error)?;
    Ok(chart)
}

/// Observed accuracy against mean confidence per calibration bin, over the diagonal of perfect
/// calibration, with the ECE written on it.
fn reliability_plot(report: &EvalReport) -> Result<String> {
    let calibration = &report.calibration;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, PLOT_SIZE).into_drawing_area();
        let mut chart = unit_square_chart(
            &root,
            "Reliability diagram",
            "confidence",
            "observed accuracy",
        )?;
        chart
            .draw_series(calibration.bins.iter().filter_map(|bin| {
                let accuracy = bin.accuracy?;
                Some(Rectangle::new(
                    [(bin.lower + 0.005, 0.0), (bin.upper - 0.005, accuracy)],
                    BLUE.mix(0.35).filled(),
                ))
            }))
            .map_err(plot_error)?
            .label("accuracy per bin")
            .legend(|(x, y)| {
                Rectangle::new([(x, y - 5), (x + 14, y + 5)], BLUE.mix(0.35).filled())
            });
        chart
            .draw_series(LineSeries::new(
                [(0.0, 0.0), (1.0, 1.0)],
                GREY.stroke_width(1),
            ))
            .map_err(plot_error)?
            .label("perfect calibration")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 14, y)], GREY));
        let points: Vec<(f64, f64)> = calibration
            .bins
            .iter()
            .filter_map(|bin| Some((bin.mean_confidence?, bin.accuracy?)))
            .collect();
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                ORANGE.stroke_width(2),
            ))
            .map_err(plot_error)?
            .label("mean confidence vs accuracy")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 14, y)], ORANGE.stroke_width(2)));
        chart
            .draw_series(
                points
                    .iter()
                    .map(|&point| Circle::new(point, 3, ORANGE.filled())),
            )
            .map_err(plot_error)?;
        draw_legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        let ece = calibration.ece.map_or_else(
            || "ECE: no predictions".to_owned(),
            |ece| {
                format!(
                    "ECE {}% over {} predictions",
                    percent(ece),
                    calibration.predictions
                )
            },
        );
        root.draw(&Text::new(
            ece,
            (70, 50),
            (FONT, 15).into_font().color(&BLACK),
        ))
        .map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

/// Stacked bars of correct and wrong predictions per confidence bin.
fn histogram_plot(histogram: &[HistogramBin]) -> Result<String> {
    let tallest = histogram
        .iter()
        .map(|bin| bin.correct + bin.wrong)
        .max()
        .unwrap_or(0)
        .max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, PLOT_SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Confidences", (FONT, 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(48)
            .build_cartesian_2d(0f64..1f64, 0f64..(tallest as f64 * 1.1))
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc("confidence")
            .y_desc("predictions")
            .x_labels(11)
            .y_label_formatter(&|count| format!("{count:.0}"))
            .draw()
            .map_err(plot_error)?;
        let gap = 0.003;
        chart
            .draw_series(histogram.iter().map(|bin| {
                Rectangle::new(
                    [
                        (bin.lower + gap, 0.0),
                        (bin.upper - gap, bin.correct as f64),
                    ],
                    GREEN.mix(0.7).filled(),
                )
            }))
            .map_err(plot_error)?
            .label("correct")
            .legend(|(x, y)| {
                Rectangle::new([(x, y - 5), (x + 14, y + 5)], GREEN.mix(0.7).filled())
            });
        chart
            .draw_series(histogram.iter().map(|bin| {
                Rectangle::new(
                    [
                        (bin.lower + gap, bin.correct as f64),
                        (bin.upper - gap, (bin.correct + bin.wrong) as f64),
                    ],
                    RED.mix(0.45).filled(),
                )
            }))
            .map_err(plot_error)?
            .label("wrong")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], RED.mix(0.45).filled()));
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

/// Picks one score out of a [`Prf`], for one line of the threshold plot.
type ScoreOf = fn(&Prf) -> f64;

/// Precision, recall and F1 of the quotes kept, against the confidence threshold.
fn threshold_plot(curve: &[ThresholdPoint]) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, PLOT_SIZE).into_drawing_area();
        let mut chart = unit_square_chart(
            &root,
            "Precision and recall against the threshold",
            "confidence threshold",
            "score",
        )?;
        let series: [(&str, RGBColor, ScoreOf); 3] = [
            ("precision", BLUE, |prf| prf.precision),
            ("recall", ORANGE, |prf| prf.recall),
            ("F1", GREEN, |prf| prf.f1),
        ];
        for (name, color, value) in series {
            chart
                .draw_series(LineSeries::new(
                    curve
                        .iter()
                        .filter(|point| point.kept > 0)
                        .map(|point| (point.threshold, value(&point.scores))),
                    color.stroke_width(2),
                ))
                .map_err(plot_error)?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 14, y)], color.stroke_width(2))
                });
        }
        draw_legend(&mut chart, SeriesLabelPosition::LowerLeft)?;
        root.present().map_err(plot_error)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::errors::{breakdown, errors};
    use crate::eval::gold::{GoldAttribution, GoldDocument, Piece};
    use crate::eval::metrics::{calibration_pairs, score};
    use crate::record::{DocumentRecord, QuoteRecord, SpeakerRecord};

    #[test]
    fn page_escapes_data_and_holds_tables_and_plots() {
        let text = "<b>Critics</b> said \"taxes & fees\" would rise.";
        let chars: Vec<char> = text.chars().collect();
        let find = |needle: &str| {
            let start = text.find(needle).expect("in text");
            let start = text[..start].chars().count();
            (start, start + needle.chars().count())
        };
        let (content_start, content_end) = find("would rise");
        let gold = vec![GoldDocument {
            id: "doc<1>".into(),
            text: text.into(),
            attributions: vec![GoldAttribution {
                content: vec![Piece::new(content_start, content_end)],
                source: Some(vec![Piece::new(3, 10)]),
                cue: None,
            }],
        }];
        let (wrong_start, wrong_end) = find("\"taxes & fees\"");
        let predicted = vec![DocumentRecord {
            id: "doc<1>".into(),
            quotes: vec![QuoteRecord {
                kind: QuoteKind::Direct,
                content: SpanRecord {
                    start: wrong_start,
                    end: wrong_end,
                    text: chars[wrong_start..wrong_end].iter().collect(),
                },
                pieces: Vec::new(),
                cue: None,
                speaker: Some(SpeakerRecord {
                    name: "<script>".into(),
                    entity: "e1".into(),
                    mention: None,
                }),
                confidence: 0.8,
                stance: None,
                targets: None,
            }],
            entities: Vec::new(),
            meta: None,
            error: None,
        }];
        let report = score(&gold, &predicted);
        let pairs = calibration_pairs(&gold, &predicted);
        let breakdown = breakdown(&gold, &predicted);
        let cases = errors(&gold, &predicted, 30);
        let page = html_report(&ReportInputs {
            gold: "gold & <dir>",
            predictions: "pipeline",
            report: &report,
            pairs: &pairs,
            breakdown: &breakdown,
            errors: &cases,
        })
        .expect("page renders");
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert_eq!(page.matches("<svg").count(), 3);
        for id in ["metrics", "calibration", "thresholds", "error-kinds"] {
            assert!(page.contains(&format!("id=\"{id}\"")), "{id}");
        }
        assert!(page.contains("ECE"));
        assert!(page.contains("gold &amp; &lt;dir&gt;"));
        assert!(page.contains("doc&lt;1&gt;"));
        assert!(page.contains("&quot;taxes &amp; fees&quot;"));
        assert!(!page.contains("<script>") && !page.contains("<b>Critics"));
        assert!(!page.contains("src=") && !page.contains("href="));
    }

    #[test]
    fn empty_evaluation_still_renders() {
        let report = score(&[], &[]);
        let page = html_report(&ReportInputs {
            gold: "",
            predictions: "",
            report: &report,
            pairs: &[],
            breakdown: &breakdown(&[], &[]),
            errors: &[],
        })
        .expect("page renders");
        assert_eq!(page.matches("<svg").count(), 3);
        assert!(page.contains("no predictions"));
    }
}
