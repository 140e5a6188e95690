//! Tests of the linker and the seam, on small hand-made texts, with the shipped models.

use super::SpanSet;
use crate::pipeline::{Pipeline, PipelineConfig};
use crate::record::{DocumentRecord, QuoteKind, QuoteRecord, SpanRecord};

fn extract(text: &str) -> DocumentRecord {
    Pipeline::new(PipelineConfig::default())
        .expect("the shipped models load")
        .extract("test", text)
}

/// The quote whose content contains `words`.
fn quote<'a>(record: &'a DocumentRecord, words: &str) -> &'a QuoteRecord {
    record
        .quotes
        .iter()
        .find(|quote| quote.content.text.contains(words))
        .unwrap_or_else(|| panic!("no quote holds {words:?}: {:#?}", record.quotes))
}

fn speaker(quote: &QuoteRecord) -> Option<&str> {
    quote.speaker.as_ref().map(|speaker| speaker.name.as_str())
}

fn mention(quote: &QuoteRecord) -> Option<&str> {
    quote
        .speaker
        .as_ref()
        .and_then(|speaker| speaker.mention.as_ref())
        .map(|mention| mention.text.as_str())
}

/// Every span's text is the original text at its code-point offsets.
fn assert_offsets(text: &str, record: &DocumentRecord) {
    let check = |span: &SpanRecord| {
        let slice: String = text
            .chars()
            .skip(span.start)
            .take(span.end.saturating_sub(span.start))
            .collect();
        assert_eq!(slice, span.text, "{span:?}");
    };
    for quote in &record.quotes {
        check(&quote.content);
        quote.pieces.iter().for_each(check);
        if let Some(cue) = &quote.cue {
            check(cue);
        }
        if let Some(mention) = quote
            .speaker
            .as_ref()
            .and_then(|speaker| speaker.mention.as_ref())
        {
            check(mention);
        }
        assert!((0.0..=1.0).contains(&quote.confidence), "{quote:?}");
    }
}

#[test]
fn learned_spans_index_the_original_text() {
    for text in [
        // Straight quotes made curly, a glued sentence, non-ASCII names, a repeated caption.
        "Ms. Ávila said the vote was \"a disgrace.\"She left.\n\nCaption here.\nCaption here.\n\n\"We will appeal,\" said José Núñez, the party’s lawyer.",
        // The New York Times's two apostrophes.
        "''It is over,'' the senator said. ''We lost.''",
        // Quotes of several paragraphs, an unclosed mark, emoji.
        "“First point.\n\n“Second point,” she said. 🙂 “And a third",
        "",
        "said",
    ] {
        let record = extract(text);
        assert_offsets(text, &record);
    }
}

#[test]
fn a_quotation_over_several_paragraphs_in_straight_marks_is_one_speaker_s() {
    let text = "The mayor spoke at length on Tuesday.\n\n\"We will rebuild the bridge before winter,\" Mayor Ana Torres said. \"The money is there.\n\n\"The engineers are ready, and the contracts are signed.\n\n\"Nobody in this city will have to wait another year.\"\n\nThe council will vote next week.";
    let record = extract(text);
    assert_offsets(text, &record);
    let first = quote(&record, "We will rebuild the bridge");
    assert_eq!(speaker(first), Some("Ana Torres"));
    assert_eq!(
        first.cue.as_ref().map(|cue| cue.text.as_str()),
        Some("said")
    );
    // The paragraphs after the cue carry on her turn: one quote from "The money" to the last
    // paragraph's closing mark, with her as the speaker and no cue of its own.
    let rest = quote(&record, "The money is there.");
    assert!(
        rest.content.text.ends_with("wait another year.\""),
        "{rest:?}"
    );
    assert!(
        rest.content.text.contains("The engineers are ready"),
        "{rest:?}"
    );
    assert_eq!(rest.kind, QuoteKind::Direct);
    assert_eq!(speaker(rest), Some("Ana Torres"));
    assert!(record
        .quotes
        .iter()
        .all(|quote| !quote.content.text.contains("council")));
}

#[test]
fn an_apostrophe_and_a_single_quotation_inside_a_quotation_stay_inside_it() {
    let text = "“I told them, ‘Don’t sign anything until the lawyers have read it,’ and they didn’t listen,” said Robert Hale, the company’s former chief executive.";
    let record = extract(text);
    assert_eq!(record.quotes.len(), 1, "{:#?}", record.quotes);
    let found = &record.quotes[0];
    assert_eq!(
        found.content.text,
        "“I told them, ‘Don’t sign anything until the lawyers have read it,’ and they didn’t listen,”"
    );
    assert_eq!(found.kind, QuoteKind::Direct);
    assert_eq!(speaker(found), Some("Robert Hale"));
    assert_eq!(
        found.cue.as_ref().map(|cue| cue.text.as_str()),
        Some("said")
    );
}

#[test]
fn a_vocative_and_an_aside_inside_a_quotation_are_not_its_speaker() {
    let text = "“Look, Senator, the numbers simply do not add up,” the budget director, Maria Lopez, told the committee. “And frankly — I say this with respect — nobody here believes otherwise.”";
    let record = extract(text);
    let first = quote(&record, "the numbers simply do not add up");
    assert_eq!(speaker(first), Some("Maria Lopez"));
    assert_eq!(
        first.cue.as_ref().map(|cue| cue.text.as_str()),
        Some("told")
    );
    // The aside ("I say this with respect") is part of the quotation, not a quote of its own.
    let second = quote(&record, "nobody here believes otherwise");
    assert!(second.content.text.contains("I say this with respect"));
    assert_eq!(speaker(second), Some("Maria Lopez"));
    assert!(record
        .quotes
        .iter()
        .all(|quote| speaker(quote) != Some("Senator")));
}

#[test]
fn a_pronoun_speaker_resolves_to_a_name_two_sentences_back() {
    let text = "Governor Tom Reilly arrived in the capital on Monday. The trip had been planned for months. He said the state would not raise taxes this year.";
    let record = extract(text);
    let found = quote(&record, "the state would not raise taxes");
    assert_eq!(
        found.content.text,
        "the state would not raise taxes this year"
    );
    assert_eq!(mention(found), Some("He"));
    assert_eq!(speaker(found), Some("Tom Reilly"));
}

#[test]
fn a_person_named_next_to_a_quotation_may_be_its_topic_not_its_speaker() {
    let text = "Critics have long accused Senator Paul Grant of ignoring farmers. “Paul Grant has never set foot on a farm,” said Linda Marsh, who runs a growers’ association in Iowa.";
    let record = extract(text);
    let found = quote(&record, "has never set foot on a farm");
    assert_eq!(
        found.content.text,
        "“Paul Grant has never set foot on a farm,”"
    );
    assert_eq!(speaker(found), Some("Linda Marsh"));
    assert!(record
        .quotes
        .iter()
        .all(|quote| speaker(quote) != Some("Paul Grant")));
}

#[test]
fn a_quotation_signed_off_with_a_dash_and_a_name_is_that_person_s() {
    let text = "Readers wrote in about last week's column on housing.\n\n\"The rents in this neighborhood have doubled in five years, and nobody at city hall seems to care.\" — John Smith, Brooklyn";
    let record = extract(text);
    assert_offsets(text, &record);
    let found = quote(&record, "The rents in this neighborhood");
    assert_eq!(speaker(found), Some("John Smith"));
    assert_eq!(mention(found), Some("John Smith"));
    assert_eq!(found.cue.as_ref().map(|cue| cue.text.as_str()), Some("—"));
}

#[test]
fn a_lead_in_from_a_name_and_a_colon_names_the_speaker() {
    let text =
        "From Senator Elaine Brooks: \"This bill will cut costs for every family in the state.\"";
    let record = extract(text);
    assert_offsets(text, &record);
    let found = quote(&record, "This bill will cut costs");
    assert_eq!(found.kind, QuoteKind::Direct);
    assert_eq!(speaker(found), Some("Elaine Brooks"));
    assert_eq!(mention(found), Some("Senator Elaine Brooks"));
}

#[test]
fn an_interrupted_quotation_is_one_quote_with_its_pieces_or_two_when_split() {
    let text = "“We are close,” Kerry said. “But we are not going to rush to an agreement.”";
    let joined = extract(text);
    assert_eq!(joined.quotes.len(), 1, "{:#?}", joined.quotes);
    let quote = &joined.quotes[0];
    assert_eq!(quote.content.text, text);
    assert_eq!(speaker(quote), Some("Kerry"));
    let pieces: Vec<&str> = quote
        .pieces
        .iter()
        .map(|piece| piece.text.as_str())
        .collect();
    assert_eq!(
        pieces,
        [
            "“We are close,”",
            "“But we are not going to rush to an agreement.”"
        ]
    );
    assert_offsets(text, &joined);
    let split = Pipeline::new(PipelineConfig {
        spans: crate::pipeline::SpanChoice::Models {
            tagger: None,
            linker: None,
            continuations: super::Continuations::SplitAtSentences,
        },
        ..PipelineConfig::default()
    })
    .unwrap()
    .extract("test", text);
    assert_eq!(split.quotes.len(), 2, "{:#?}", split.quotes);
    assert!(split.quotes[1].cue.is_none());
    assert_eq!(speaker(&split.quotes[1]), Some("Kerry"));
    assert!(split.quotes.iter().all(|quote| quote.pieces.is_empty()));
}

#[test]
fn fitting_the_linker_is_deterministic() {
    use crate::train::linker::{fit_linker, LinkExample, LinkerTrainOptions};
    let examples: Vec<LinkExample> = (0..40u64)
        .map(|index| LinkExample {
            candidates: vec![vec![index % 3, 100], vec![7, index % 5], vec![9]],
            gold: (index % 3) as usize,
        })
        .collect();
    let options = LinkerTrainOptions {
        table_bits: 10,
        ..LinkerTrainOptions::default()
    };
    let first = fit_linker(&examples, &options, "test".into());
    let second = fit_linker(&examples, &options, "test".into());
    assert_eq!(first.weights, second.weights);
    assert!(!first.weights.is_empty());
}

#[test]
fn constructions_read_only_the_tokens_around_the_quotation() {
    use super::constructions::{lead_in, sign_off};
    let text = "From Senator Elaine Brooks: “Costs will fall.” — John Smith, Brooklyn";
    let normalised = crate::normalise::normalise(text);
    let clean = &normalised.text;
    let segmented = crate::segment::segment(clean);
    let regions = crate::quotes::quoted_regions(clean, &normalised, &segmented);
    let speakers = crate::speakers::find_speakers(clean, &segmented, &regions);
    let paragraph_of = vec![0; segmented.tokens.len()];
    let quotation = regions[0].tokens.clone();
    let words = |range: &std::ops::Range<usize>| {
        let tokens = &segmented.tokens;
        clean[tokens[range.start].start..tokens[range.end - 1].end].to_string()
    };
    let before = lead_in(
        clean,
        &segmented.tokens,
        &speakers,
        &paragraph_of,
        &quotation,
    )
    .unwrap();
    assert_eq!(words(&before.source), "Senator Elaine Brooks");
    assert_eq!(words(&before.cue), ":");
    let after = sign_off(
        clean,
        &segmented.tokens,
        &speakers,
        &paragraph_of,
        &quotation,
    )
    .unwrap();
    assert_eq!(words(&after.source), "John Smith");
    assert_eq!(words(&after.cue), "—");
    // Not from a name: nothing.
    let plain = crate::segment::segment("He said: “No.”");
    let plain_speakers = crate::speakers::find_speakers("He said: “No.”", &plain, &[]);
    assert!(lead_in(
        "He said: “No.”",
        &plain.tokens,
        &plain_speakers,
        &vec![0; plain.tokens.len()],
        &(3..6)
    )
    .is_none());
}

#[test]
fn a_choice_s_probability_is_its_softmax_among_the_candidates() {
    let (index, probability) = super::best_of(&[0.0, 2.0, 1.0]).expect("three candidates");
    assert_eq!(index, 1);
    let expected = 2f32.exp() / (1.0 + 2f32.exp() + 1f32.exp());
    assert!((probability - expected).abs() < 1e-6, "{probability}");
    // The first of equal scores, at an even share; one candidate is certain; none is no choice.
    assert_eq!(super::best_of(&[3.0, 3.0]), Some((0, 0.5)));
    assert_eq!(super::best_of(&[-40.0]), Some((0, 1.0)));
    assert_eq!(super::best_of(&[]), None);
}

#[test]
fn the_linker_s_probabilities_reach_the_confidence_features() {
    let pipeline = Pipeline::new(PipelineConfig::default()).expect("the shipped models load");
    let text = "The minister said the budget would pass next week. Critics were not convinced.";
    let document = pipeline.analyse("test", text);
    let attribution = document
        .attributions
        .first()
        .unwrap_or_else(|| panic!("no attribution in {text:?}"));
    let quote = attribution
        .features
        .quote_probability
        .expect("the linker decided the quote");
    let source = attribution
        .features
        .source_probability
        .expect("and its source");
    assert!(quote > 0.0 && quote <= 1.0, "{quote}");
    assert!(source > 0.0 && source <= 1.0, "{source}");
    // The rule stages alone decide without the linker.
    let rules = Pipeline::new(PipelineConfig {
        spans: crate::pipeline::SpanChoice::Rules,
        ..PipelineConfig::default()
    })
    .expect("the shipped models load");
    for attribution in &rules.analyse("test", text).attributions {
        assert_eq!(attribution.features.quote_probability, None);
        assert_eq!(attribution.features.source_probability, None);
    }
}

#[test]
fn a_content_of_one_function_word_or_no_word_is_no_quote_but_one_noun_may_be() {
    let text = "He echoed that. She attacked Machado. They backed the";
    let segmented = crate::segment::segment(text);
    let token = |word: &str| {
        segmented
            .tokens
            .iter()
            .position(|token| &text[token.start..token.end] == word)
            .unwrap_or_else(|| panic!("no token {word:?}"))
    };
    let one = |word: &str| token(word)..token(word) + 1;
    let empty = |extent: std::ops::Range<usize>| {
        super::holds_no_proposition(text, &segmented.tokens, &extent)
    };
    assert!(empty(one("that")));
    assert!(empty(one("the")));
    assert!(!empty(one("Machado")));
    // Two words are a content to weigh, whatever they are.
    assert!(!empty(token("attacked")..token("Machado") + 1));
    assert!(!empty(99..100));
    // No word at all: a lone quotation mark before a speaker's label in a transcript (as
    // normalisation leaves it, curly).
    let marks = "“WALLACE: But, Governor.";
    let segmented = crate::segment::segment(marks);
    assert!(super::holds_no_proposition(
        marks,
        &segmented.tokens,
        &(0..1)
    ));
    assert!(!super::holds_no_proposition(
        marks,
        &segmented.tokens,
        &(0..2)
    ));
}

#[test]
fn names_joined_by_and_before_the_cue_speak_together_as_one_pair() {
    let text = "Secretary of State John Kerry and Foreign Minister Sergey Lavrov said the talks would go on. Later, Kerry and Lavrov agreed that the truce should hold.";
    let record = extract(text);
    assert_offsets(text, &record);
    let talks = quote(&record, "the talks would go on");
    assert_eq!(speaker(talks), Some("John Kerry and Sergey Lavrov"));
    let truce = quote(&record, "the truce should hold");
    assert_eq!(speaker(truce), Some("John Kerry and Sergey Lavrov"));
    assert_eq!(mention(truce), Some("Kerry and Lavrov"));
    // The pair named twice is one entity, and neither man speaks alone.
    let pair = |quote: &QuoteRecord| quote.speaker.as_ref().map(|speaker| speaker.entity.clone());
    assert_eq!(pair(talks), pair(truce));
    assert!(record
        .quotes
        .iter()
        .all(|quote| !matches!(speaker(quote), Some("John Kerry" | "Sergey Lavrov"))));
}

/// Each mention of the records' entities is of one entity: no two entities list the same words.
fn assert_each_mention_is_of_one_entity(record: &DocumentRecord) {
    let mut owners = std::collections::HashMap::new();
    for entity in &record.entities {
        for mention in &entity.mentions {
            if let Some(other) = owners.insert((mention.start, mention.end), &entity.name) {
                panic!(
                    "{:?} is a mention of both {other:?} and {:?}",
                    mention.text, entity.name
                );
            }
        }
    }
}

#[test]
fn a_pair_of_names_and_a_source_that_speaks_twice_are_each_one_mention() {
    for text in [
        // The pair is the tagged source, and its last name an entity of its own.
        "France said the vote was fair. Later, Britain and France said the talks would go on. Britain and France added that the truce should hold.",
        "Mr. Obama and Mr. Xi said the deal was historic. Mr. Xi said the deal was fair. Mr. Obama and Mr. Xi agreed that the talks would go on.",
        // A source that is the speaker of two quotes, with a longer mention at its first word.
        "Stephanie McCrummen said the report was late. “It was late,” McCrummen said. “It is over,” McCrummen said.",
    ] {
        let record = extract(text);
        assert_offsets(text, &record);
        assert_each_mention_is_of_one_entity(&record);
    }
}

fn tagged_span(
    role: crate::tagger::Role,
    tokens: std::ops::Range<usize>,
) -> crate::tagger::TaggedSpan {
    crate::tagger::TaggedSpan { role, tokens }
}

/// The token range of the first occurrence of `words` in `text`'s tokens.
fn tokens_of(text: &str, tokens: &[crate::segment::Token], words: &str) -> std::ops::Range<usize> {
    let at = text.find(words).expect("the words are in the text");
    let first = tokens
        .iter()
        .position(|token| token.start == at)
        .expect("the words start a token");
    let last = tokens
        .iter()
        .position(|token| token.end == at + words.len())
        .expect("the words end a token");
    first..last + 1
}

#[test]
fn a_content_piece_run_across_a_tagged_cue_becomes_two_without_the_joining_word() {
    use crate::tagger::{Role, TaggedSpan};
    let text = "Lavrov echoed that, saying “we still need to finalize a few issues” and pointed \
                to the need to separate fighters from the al-Nusra Front.";
    let segmented = crate::segment::segment(text);
    let tokens = &segmented.tokens;
    let content = |words: &str| TaggedSpan {
        role: Role::Content,
        tokens: tokens_of(text, tokens, words),
    };
    let cue = |words: &str| TaggedSpan {
        role: Role::Cue,
        tokens: tokens_of(text, tokens, words),
    };
    let run_together = "“we still need to finalize a few issues” and pointed to the need to \
                        separate fighters from the al-Nusra Front";
    let spans = SpanSet::from_tagged(
        vec![content(run_together), cue("saying"), cue("pointed to")],
        tokens,
        text,
    );
    let pieces: Vec<&str> = spans
        .pieces
        .iter()
        .map(|piece| &text[tokens[piece.start].start..tokens[piece.end - 1].end])
        .collect();
    assert_eq!(
        pieces,
        [
            "“we still need to finalize a few issues”",
            "the need to separate fighters from the al-Nusra Front"
        ]
    );
    assert_eq!(spans.cues.len(), 2);

    // A cue at either edge of a piece leaves it whole, and the training path's reading of the
    // spans as they are cuts nothing.
    let whole = SpanSet::from_tagged(
        vec![
            content("saying “we still need to finalize a few issues”"),
            cue("saying"),
        ],
        tokens,
        text,
    );
    assert_eq!(
        whole.pieces,
        [tokens_of(
            text,
            tokens,
            "saying “we still need to finalize a few issues”"
        )]
    );
    assert_eq!(
        SpanSet::from_tagged_as_they_are(vec![content(run_together), cue("pointed to")]).pieces,
        [tokens_of(text, tokens, run_together)]
    );
}

#[test]
fn a_tagged_source_that_stops_inside_a_name_ends_with_the_name() {
    use crate::tagger::{Role, TaggedSpan};
    let text = "Mrs. Clinton said the plan would pay for itself. \
                The director Ava DuVernay told reporters that the film was done.";
    let segmented = crate::segment::segment(text);
    let tokens = &segmented.tokens;
    let speakers = crate::speakers::find_speakers(text, &segmented, &[]);
    let span = |role: Role, words: &str| TaggedSpan {
        role,
        tokens: tokens_of(text, tokens, words),
    };
    let words = |range: &std::ops::Range<usize>| {
        text[tokens[range.start].start..tokens[range.end - 1].end].to_string()
    };
    let spans = SpanSet::from_tagged(
        vec![
            span(Role::Source, "Mrs."),
            span(Role::Cue, "said"),
            span(Role::Content, "the plan would pay for itself"),
            span(Role::Source, "The director Ava"),
            span(Role::Cue, "told"),
        ],
        tokens,
        text,
    )
    .with_sources_completing_names(&speakers);
    let sources: Vec<String> = spans.sources.iter().map(words).collect();
    assert_eq!(sources, ["Mrs. Clinton", "The director Ava DuVernay"]);

    // A name that runs on into the cue (a title-case headline reads as one long name) leaves
    // the tagged source as it is.
    let headline = "Chris Christie Calls Hillary Clinton A Disgrace";
    let segmented = crate::segment::segment(headline);
    let tokens = &segmented.tokens;
    let speakers = crate::speakers::find_speakers(headline, &segmented, &[]);
    let source = tokens_of(headline, tokens, "Chris Christie");
    let long_name = speakers
        .mention_starting_at(source.start)
        .map(|mention| speakers.mentions[mention].tokens.clone());
    assert!(
        long_name.as_ref().is_some_and(|name| name.end > source.end),
        "the speaker stage reads the headline as one name: {long_name:?}"
    );
    let spans = SpanSet::from_tagged(
        vec![
            tagged_span(Role::Source, source.clone()),
            tagged_span(Role::Cue, tokens_of(headline, tokens, "Calls")),
        ],
        tokens,
        headline,
    )
    .with_sources_completing_names(&speakers);
    assert_eq!(spans.sources, [source]);
}

#[test]
fn the_transformer_s_spans_get_their_own_bias_of_not_a_quote_where_the_linker_has_one() {
    let mut linker = super::Linker::from_table(vec![0.0; 16], 4, "test".into());
    linker.not_a_quote_bias = -1.0;
    assert_eq!(linker.for_transformer_spans().not_a_quote_bias, -1.0);
    // A linker file written before the second bias existed reads without it.
    let written = serde_json::to_string(&linker).expect("the linker serialises");
    assert!(
        !written.contains("not_a_quote_bias_transformer"),
        "{written}"
    );

    linker.not_a_quote_bias_transformer = Some(-0.25);
    let read: super::Linker =
        serde_json::from_str(&serde_json::to_string(&linker).expect("the linker serialises"))
            .expect("the linker reads back");
    let for_transformer = read.for_transformer_spans();
    assert_eq!(for_transformer.not_a_quote_bias, -0.25);
    assert_eq!(read.not_a_quote_bias, -1.0);
}

#[test]
fn a_pipeline_cut_before_a_stage_keeps_only_the_stages_before_it() {
    let mut pipeline = Pipeline::new(PipelineConfig::default()).expect("the shipped models load");
    let names = pipeline.stage_names();
    let at = names
        .iter()
        .position(|name| *name == "tag and link")
        .expect("fast mode tags and links");
    pipeline.truncate_before("tag and link");
    assert_eq!(pipeline.stage_names(), names[..at]);
    assert_eq!(pipeline.stage_times().len(), at);
    // A name that is not in the list changes nothing.
    pipeline.truncate_before("no such stage");
    assert_eq!(pipeline.stage_names().len(), at);
}

#[test]
fn a_pronoun_speaker_agrees_with_the_person_it_names() {
    let text = "Hillary Clinton spoke in Ohio on Monday. Donald Trump answered her in a speech. She said the economy was strong.";
    let record = extract(text);
    let found = quote(&record, "the economy was strong");
    assert_eq!(mention(found), Some("She"));
    assert_eq!(speaker(found), Some("Hillary Clinton"));
    let gender_of = |name: &str| {
        record
            .entities
            .iter()
            .find(|entity| entity.name == name)
            .and_then(|entity| entity.gender)
    };
    assert_eq!(
        gender_of("Hillary Clinton"),
        Some(crate::record::Gender::Female)
    );
    assert_eq!(gender_of("Donald Trump"), Some(crate::record::Gender::Male));
    let json = serde_json::to_string(&record).expect("records serialise");
    assert!(json.contains(r#""gender":"female""#), "{json}");
}

#[test]
fn a_source_with_an_apposition_is_the_person_it_opens_with() {
    let text = "The debate went on for hours. Aaron Kall, the director of debate at the University of Michigan, said the first debate mattered most.";
    let record = extract(text);
    let found = quote(&record, "the first debate mattered most");
    assert_eq!(speaker(found), Some("Aaron Kall"));
    assert_offsets(text, &record);
}

#[test]
fn the_speaker_is_named_without_the_title_inside_the_name() {
    let text = "Wells Fargo CEO John Stumpf said the bank had fired the employees. Stumpf said the bank was sorry.";
    let record = extract(text);
    let found = quote(&record, "the bank was sorry");
    assert_eq!(speaker(found), Some("John Stumpf"));
}

#[test]
fn a_source_added_far_back_does_not_end_a_pronouns_search_for_its_name() {
    // The appositive source of the first quote becomes a mention of its own, made after the
    // speaker stage's; it lies beyond a pronoun's memory, and must not hide "Mr. Smith".
    let text = "Michael Oppenheimer, a professor of geosciences at Princeton University, said the seas would rise.\n\nThe storm season began early. The rains fell for weeks. The rivers rose. The roads closed. The schools shut. The markets emptied. The ferries stopped. The power failed. The phones went dead.\n\nMr. Smith arrived in Dhaka on Monday for the talks.\n\n\"If even a portion of those people are displaced,\" he said, \"we will have a crisis.\"";
    let record = extract(text);
    let found = quote(&record, "If even a portion");
    assert_eq!(mention(found), Some("he"));
    assert_eq!(speaker(found), Some("Smith"));
    assert_eq!(
        speaker(quote(&record, "the seas would rise")),
        Some("Michael Oppenheimer")
    );
}

#[test]
fn a_tagged_which_is_the_thing_named_just_before_it_and_no_later_she() {
    let text = "My mother taught school for forty years.\n\nMy father died of brain cancer in 1994, which confirmed what I always knew. The report, which said the plant was safe, was wrong.\n\nMy mother has softened with age, but she still says things such as, \"We are not all meant to be equal.\"";
    let record = extract(text);
    let found = quote(&record, "the plant was safe");
    assert_eq!(mention(found), Some("which"));
    assert_eq!(speaker(found), Some("report"));
    for quote in &record.quotes {
        assert_ne!(speaker(quote), Some("which"), "{:?}", quote.content.text);
    }
    let she = quote(&record, "We are not all meant");
    assert_eq!(mention(she), Some("she"));
    assert_ne!(speaker(she), Some("report"));
}

#[test]
fn the_transformer_s_scores_at_a_candidate_s_ends_become_features_only_where_given() {
    use super::candidates::{LinkIndex, SourceCandidate};
    use crate::tagger::{Role, Tag, ROW, TAGS};
    let text = "Kerry said the talks were close.";
    let segmented = crate::segment::segment(text);
    let tokens = &segmented.tokens;
    let source = tokens_of(text, tokens, "Kerry");
    let cue = tokens_of(text, tokens, "said");
    let content = tokens_of(text, tokens, "the talks were close");
    let spans = SpanSet::from_tagged(
        vec![
            tagged_span(Role::Source, source.clone()),
            tagged_span(Role::Cue, cue.clone()),
            tagged_span(Role::Content, content.clone()),
        ],
        tokens,
        text,
    );
    let index = LinkIndex::new(text, &segmented, &spans, &[]);
    // Log-probabilities with `sure` on Begin in every channel at every token.
    let scores_with = |sure: f32| -> Vec<f32> {
        let mut scores = Vec::with_capacity(tokens.len() * ROW);
        for _ in 0..tokens.len() * ROW / TAGS {
            let rest = (1.0 - sure) / 2.0;
            for tag in Tag::ALL {
                scores.push(if tag == Tag::Begin { sure } else { rest }.ln());
            }
        }
        scores
    };
    let candidate = SourceCandidate::Span {
        tokens: source,
        tagged: true,
        mention_kind: None,
    };
    let keys = |scores: Option<&[f32]>| {
        let context = index.context(text, &segmented, &spans, scores);
        context
            .source_features(
                &content,
                crate::record::QuoteKind::Indirect,
                &cue,
                0,
                &candidate,
                0,
                None,
            )
            .0
    };
    let (sure, unsure) = (scores_with(0.96), scores_with(0.3));
    let without = keys(None);
    let with_sure = keys(Some(&sure));
    let with_unsure = keys(Some(&unsure));
    assert_eq!(with_sure.len(), without.len() + 3);
    assert_eq!(with_sure[..without.len()], without[..]);
    assert_ne!(with_sure, with_unsure);
    // Scores shorter than the text read as none at the tokens they lack, not as a panic.
    assert_eq!(keys(Some(&sure[..ROW])).len(), without.len() + 3);
}

#[cfg(feature = "transformer")]
#[test]
fn the_default_mode_has_its_own_linker_which_reads_the_tagger_s_scores() {
    let fast = super::Linker::shipped().expect("the shipped linker loads");
    let default = super::Linker::shipped_for_transformer().expect("the default mode's loads");
    assert!(!fast.reads_tag_scores);
    assert!(default.reads_tag_scores);
    assert!(
        default
            .provenance
            .contains("--transformer-spans --tag-scores"),
        "{}",
        default.provenance
    );
    // A linker that a run names is used as it is; without one, the default mode's own.
    let learned = super::LearnedSpans {
        tagger: std::sync::Arc::clone(
            crate::tagger::SpanModel::shipped_shared().expect("the shipped tagger loads"),
        ),
        linker: std::sync::Arc::new(fast.clone()),
        continuations: super::Continuations::Joined,
    };
    let own = learned
        .clone()
        .for_transformer_spans(&super::SpanChoice::Learned)
        .expect("the default mode's linker loads");
    assert!(own.linker.reads_tag_scores);
    let named = learned
        .for_transformer_spans(&super::SpanChoice::Models {
            tagger: None,
            linker: Some("named.json".into()),
            continuations: super::Continuations::Joined,
        })
        .expect("a named linker is kept");
    assert!(!named.linker.reads_tag_scores);
}
