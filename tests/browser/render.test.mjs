// Checks the pages of `whosaid render` in headless Chromium: quotes and speakers on the seed
// article and a PolNeAR article, the speaker filter, hostile input, the corpus index, and no
// console or page errors anywhere. Run by scripts/test-browser; see docs/RENDER.md.
//
// Environment: WHOSAID_BIN (default target/release/whosaid), OUT (default tests/browser/out),
// CHROMIUM (default /usr/bin/chromium), POLNEAR_DEV (default ../shared/data/polnear/data/dev).

import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const bin = path.resolve(repo, process.env.WHOSAID_BIN || "target/release/whosaid");
const out = path.resolve(repo, process.env.OUT || "tests/browser/out");
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
const polnearDev = path.resolve(repo, process.env.POLNEAR_DEV || "../shared/data/polnear/data/dev");
const seedPath = path.join(repo, "data/000_86905691883c5ace.txt");
const seedId = "000_86905691883c5ace";

// Exactly the flags asked for; the debugging port is how Playwright talks to the browser.
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const failures = [];
let checks = 0;
function check(condition, message) {
  checks += 1;
  if (!condition) {
    failures.push(message);
    console.error(`  FAIL ${message}`);
  }
}
function log(message) {
  console.log(message);
}

/** Code-point slice, as whosaid's offsets count. */
function slice(text, start, end) {
  return Array.from(text).slice(start, end).join("");
}

/** What the browser's HTML parser makes of a text: line ends normalised, controls replaced. */
function asParsed(text) {
  return text
    .replace(/\r\n?/g, "\n")
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g, "\ufffd");
}

function whosaid(args) {
  const run = spawnSync(bin, args, { cwd: repo, encoding: "utf8" });
  if (run.error) throw new Error(`cannot run ${bin}: ${run.error.message}`);
  if (run.status !== 0) {
    throw new Error(`whosaid ${args.join(" ")} exited ${run.status}:\n${run.stderr}`);
  }
  return run;
}

async function startChromium() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "whosaid-chromium-"));
  const child = spawn(
    chromiumPath,
    [...CHROMIUM_FLAGS, `--user-data-dir=${userDataDir}`, "--remote-debugging-port=0", "about:blank"],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  const endpoint = await new Promise((resolve, reject) => {
    let stderr = "";
    const timer = setTimeout(() => reject(new Error(`Chromium did not start in 30 s:\n${stderr}`)), 30000);
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
      const found = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`Chromium exited (${code}) before it listened:\n${stderr}`));
    });
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${chromiumPath}: ${error.message}`));
    });
  });
  child.stderr.resume();
  const browser = await chromium.connectOverCDP(endpoint);
  const stop = async () => {
    await browser.close().catch(() => {});
    child.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 300));
    fs.rmSync(userDataDir, { recursive: true, force: true });
  };
  return { browser, stop };
}

/** Opens a page file and records console errors, page errors and any request off the disk. */
async function open(context, file, name) {
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  await page.setViewportSize({ width: 1280, height: 900 });
  const problems = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("request", (request) => {
    if (!request.url().startsWith("file:")) problems.push(`request off the disk: ${request.url()}`);
  });
  const response = await page.goto(pathToFileURL(file).href);
  check(response === null || response.ok(), `${name}: the page loads`);
  return { page, problems, name };
}

async function finish({ page, problems, name }) {
  await page.screenshot({ path: path.join(out, `${name}.png`), fullPage: true });
  check(problems.length === 0, `${name}: no console or page errors, no requests (${problems.join("; ")})`);
  await page.close();
}

/** Each quote in the page's embedded record, as the DOM shows it. */
async function domQuotes(page) {
  return page.evaluate(() => {
    const record = JSON.parse(document.getElementById("whosaid-record").textContent);
    return record.quotes.map((quote, index) => {
      const pieces = Array.from(document.querySelectorAll(`#article-text [data-quote="${index}"]`));
      const first = document.getElementById(`q${index}`);
      return {
        content: quote.content.text,
        // An interrupted quote is marked piece by piece: its elements hold its pieces alone.
        marked: quote.pieces && quote.pieces.length ? quote.pieces.map((piece) => piece.text).join("") : quote.content.text,
        speaker: quote.speaker ? quote.speaker.name : "",
        confidence: quote.confidence,
        pieces: pieces.length,
        text: pieces.map((piece) => piece.textContent).join(""),
        speakers: Array.from(new Set(pieces.map((piece) => piece.getAttribute("data-speaker")))),
        firstIsPiece: first !== null && first === pieces[0],
        focusable: first !== null && first.tabIndex === 0,
        uncertain: first !== null && first.classList.contains("uncertain"),
        outline: first ? getComputedStyle(first).outlineStyle : "",
        marker: document.querySelector(`[data-uncertain="${index}"]`) !== null,
        goto: first ? first.getAttribute("data-goto") : null,
      };
    });
  });
}

/** Checks that a page shows the article verbatim and every quote of its record, marked right. */
async function checkConsistent(page, name, text) {
  const shown = await page.locator("#article-text").evaluate((element) => element.textContent);
  check(shown === asParsed(text), `${name}: the page shows the article's text exactly`);
  const quotes = await domQuotes(page);
  for (const [index, quote] of quotes.entries()) {
    if (quote.content.length === 0) continue;
    check(quote.pieces > 0 && quote.firstIsPiece, `${name}: quote ${index} has an element`);
    check(quote.text === asParsed(quote.marked), `${name}: quote ${index} element holds its content`);
    check(
      quote.speakers.length === 1 && quote.speakers[0] === quote.speaker,
      `${name}: quote ${index} is marked with speaker "${quote.speaker}" (found ${JSON.stringify(quote.speakers)})`,
    );
    check(quote.focusable, `${name}: quote ${index} can take keyboard focus`);
    const uncertain = quote.confidence < 0.5;
    check(quote.uncertain === uncertain && quote.marker === uncertain, `${name}: quote ${index} is marked uncertain iff confidence < 0.5`);
    if (uncertain) check(quote.outline === "dashed", `${name}: uncertain quote ${index} has a dashed outline`);
  }
  return quotes;
}

async function checkSeed(context, file, name) {
  log(`${name}: the seed article`);
  const opened = await open(context, file, name);
  const { page } = opened;
  const text = fs.readFileSync(seedPath, "utf8");
  const quotes = await checkConsistent(page, name, text);
  const gold = JSON.parse(fs.readFileSync(path.join(repo, "data/seed-gold.jsonl"), "utf8").split("\n")[0]);
  // The gold marks sources, not names: these are the sources of Kerry's and Lavrov's quotes.
  const speakerOfSource = { Kerry: "John Kerry", he: "John Kerry", Lavrov: "Sergey Lavrov" };
  let checked = 0;
  for (const attribution of gold.attributions) {
    const content = attribution.content.map(([start, end]) => slice(gold.text, start, end)).join("");
    const source = attribution.source ? slice(gold.text, ...attribution.source[0]) : null;
    const expected = speakerOfSource[source];
    const found = quotes.findIndex((quote) => quote.text === content);
    check(found >= 0, `${name}: a quote element holds the gold quote ${JSON.stringify(content.slice(0, 40))}`);
    if (found < 0 || !expected) continue;
    checked += 1;
    check(
      quotes[found].speakers.length === 1 && quotes[found].speakers[0] === expected,
      `${name}: ${JSON.stringify(content.slice(0, 40))} is ${expected}'s (found ${quotes[found].speakers})`,
    );
    // The quote links to its speaker mention, and the mention back to a quote of that speaker.
    const mention = await page.evaluate((id) => {
      const element = id && document.getElementById(id);
      if (!element) return null;
      const back = document.getElementById(element.getAttribute("data-goto"));
      return { text: element.textContent, backSpeaker: back && back.getAttribute("data-speaker") };
    }, quotes[found].goto);
    check(mention !== null && mention.text === source, `${name}: quote ${found} links to its mention "${source}"`);
    check(mention !== null && mention.backSpeaker === expected, `${name}: mention "${source}" links back to ${expected}'s quote`);
  }
  // Eight attributions of theirs, two of them quotes interrupted by "said": six quotes.
  check(checked === 6, `${name}: all 6 Kerry and Lavrov quotes checked (${checked})`);

  // Hover and keyboard focus show type, confidence and stance.
  const tooltip = page.locator("#tooltip");
  await page.locator("#q0").hover();
  check(await tooltip.isVisible(), `${name}: hovering a quote shows its tooltip`);
  await page.mouse.move(0, 0);
  check(!(await tooltip.isVisible()), `${name}: the tooltip goes when the mouse leaves`);
  const uncertainIndex = quotes.findIndex((quote) => quote.confidence < 0.5);
  await page.locator(`#q${uncertainIndex}`).evaluate((element) => element.scrollIntoView({ block: "center" }));
  await page.locator(`#q${uncertainIndex}`).focus();
  const tip = (await tooltip.isVisible()) ? await tooltip.textContent() : "";
  check(/quote/i.test(tip) && /Confidence \d\.\d\d/.test(tip) && /Stance: /.test(tip), `${name}: focusing a quote shows type, confidence and stance (${tip})`);
  check(/uncertain/.test(tip), `${name}: the tooltip of an uncertain quote says so`);
  await page.screenshot({ path: path.join(out, `${name}-tooltip.png`) });
  await page.keyboard.press("Escape");

  // Following a quote to its mention with the keyboard.
  const withMention = quotes.findIndex((quote) => quote.goto !== null);
  const gotoTarget = withMention >= 0 ? quotes[withMention].goto : null;
  await page.locator(`#q${withMention}`).focus();
  await page.keyboard.press("Enter");
  const focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
  check(gotoTarget !== null && focused === gotoTarget, `${name}: Enter on a quote goes to its speaker mention (${focused})`);

  await checkFilter(page, name, "Sergey Lavrov");
  await finish(opened);
}

async function checkFilter(page, name, speaker) {
  const state = () =>
    page.evaluate(() =>
      Array.from(document.querySelectorAll("#article-text [data-quote]")).map((element) => ({
        speaker: element.getAttribute("data-speaker"),
        out: element.classList.contains("filtered-out"),
        background: getComputedStyle(element).backgroundColor,
      })),
    );
  const transparent = "rgba(0, 0, 0, 0)";
  const button = page.locator(".speaker-filter", { hasText: speaker }).first();
  await button.click();
  let pieces = await state();
  const own = pieces.filter((piece) => piece.speaker === speaker);
  const others = pieces.filter((piece) => piece.speaker !== speaker);
  check(own.length > 0 && others.length > 0, `${name}: the page has ${speaker}'s quotes and others'`);
  check(own.every((piece) => !piece.out && piece.background !== transparent), `${name}: after choosing ${speaker}, their quotes stay highlighted`);
  check(others.every((piece) => piece.out && piece.background === transparent), `${name}: after choosing ${speaker}, other speakers' quotes are not highlighted`);
  check((await button.getAttribute("aria-pressed")) === "true", `${name}: the chosen speaker's button is pressed`);
  await page.screenshot({ path: path.join(out, `${name}-filtered.png`), fullPage: true });
  await page.locator("#clear-filter").click();
  pieces = await state();
  check(pieces.every((piece) => !piece.out && piece.background !== transparent), `${name}: clearing the filter highlights every quote again`);
  await button.click();
  await page.keyboard.press("Escape");
  pieces = await state();
  check(pieces.every((piece) => !piece.out), `${name}: Escape clears the filter too`);
}

async function checkPolnear(context, file, name, text) {
  log(`${name}: a PolNeAR dev article`);
  const opened = await open(context, file, name);
  const quotes = await checkConsistent(opened.page, name, text);
  check(quotes.length > 0, `${name}: the article has quotes (${quotes.length})`);
  await finish(opened);
}

async function checkHostile(context, file, name, id, text) {
  log(`${name}: a hostile article`);
  const opened = await open(context, file, name);
  const { page } = opened;
  await checkConsistent(page, name, text);
  const result = await page.evaluate(() => ({
    pwned: typeof window.__pwned,
    elements: document.querySelectorAll("#article-text script, #article-text img, #article-text b, header img, header script").length,
    scripts: document.scripts.length,
    title: document.title,
    heading: document.querySelector("h1").textContent,
    recordId: JSON.parse(document.getElementById("whosaid-record").textContent).id,
    text: document.getElementById("article-text").textContent,
  }));
  check(result.elements === 0, `${name}: no element is made from the article's markup`);
  check(result.scripts === 2, `${name}: the page has only its own two script elements (${result.scripts})`);
  check(result.heading === id && result.title.endsWith(id), `${name}: the hostile id shows literally`);
  check(result.recordId === id, `${name}: the embedded record survives the id intact`);
  for (const literal of ["<script>window.__pwned=1</script>", '<img src=x onerror="window.__pwned=1">', "<b onmouseover="]) {
    check(result.text.includes(literal), `${name}: ${literal} shows as text`);
  }
  const quote = page.locator('#article-text [data-speaker="Alice Smith"]').first();
  check((await quote.count()) > 0, `${name}: the HTML-looking quote is Alice Smith's`);
  if (await quote.count()) {
    check((await quote.textContent()).includes("like HTML</b>"), `${name}: Alice Smith's quote shows its markup as text`);
    await quote.hover();
    await quote.click();
  }
  await page.locator(".speaker-filter").first().click();
  check((await page.evaluate(() => typeof window.__pwned)) === "undefined", `${name}: nothing ran (window.__pwned is undefined)`);
  await finish(opened);
}

async function checkIndex(context, dir, documents) {
  const name = "corpus-index";
  log(`${name}: the corpus index`);
  const file = path.join(dir, "index.html");
  check(fs.existsSync(file), `${name}: index.html exists`);
  if (!fs.existsSync(file)) return;
  const opened = await open(context, file, name);
  const { page } = opened;
  const links = await page.evaluate(() =>
    Array.from(document.querySelectorAll("a.article-link")).map((link) => ({ id: link.getAttribute("data-id"), href: link.href })),
  );
  check(links.length === documents.length, `${name}: one link per article (${links.length} of ${documents.length})`);
  for (const id of documents) {
    const link = links.find((candidate) => candidate.id === id);
    check(link !== undefined, `${name}: links to ${id}`);
    if (!link) continue;
    const target = fileURLToPath(link.href);
    check(fs.existsSync(target) && path.dirname(target) === dir, `${name}: the link to ${id} names a page in the folder`);
  }
  const kerry = await page.evaluate(() => {
    const row = Array.from(document.querySelectorAll("#speakers tbody tr")).find((candidate) => candidate.cells[0].textContent === "John Kerry");
    return row ? Array.from(row.cells).map((cell) => cell.textContent) : null;
  });
  check(kerry !== null && Number(kerry[2]) >= 3 && Number(kerry[3]) >= 1, `${name}: the speaker table counts John Kerry's quotes and articles (${kerry})`);
  // Following a link reaches the page, which links back.
  const seedLink = page.locator("a.article-link", { hasText: seedId });
  await seedLink.click();
  await page.waitForLoadState();
  check((await page.locator("h1").textContent()) === seedId, `${name}: following a link opens the article's page`);
  check((await page.locator('a[href="index.html"]').count()) === 1, `${name}: the article's page links back to the index`);
  await page.goBack();
  await finish(opened);
}

async function main() {
  if (!fs.existsSync(bin)) throw new Error(`no whosaid binary at ${bin} (build it, or set WHOSAID_BIN)`);
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "whosaid-render-"));

  // The inputs: the seed article, the first PolNeAR dev article, and a hostile article whose
  // id and text are markup.
  const articles = path.join(work, "articles");
  fs.mkdirSync(articles);
  fs.copyFileSync(seedPath, path.join(articles, `${seedId}.txt`));
  const documents = [seedId];
  let polnear = null;
  const polnearText = path.join(polnearDev, "text");
  if (fs.existsSync(polnearText)) {
    const first = fs.readdirSync(polnearText).filter((file) => file.endsWith(".txt")).sort()[0];
    if (first) {
      polnear = { id: first.replace(/\.txt$/, ""), text: fs.readFileSync(path.join(polnearText, first), "utf8") };
      fs.copyFileSync(path.join(polnearText, first), path.join(articles, first));
      documents.push(polnear.id);
    }
  }
  if (!polnear) log(`SKIP the PolNeAR page: ${polnearText} is not there (../shared is absent)`);
  const hostileId = `"><img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>`;
  const hostileText =
    "Hostile <script>window.__pwned=1</script> and <img src=x onerror=\"window.__pwned=1\"> in the text.\n\n" +
    "“<b onmouseover=window.__pwned=1>like HTML</b>,” said Alice Smith. It's a 'test' & more </div></span>.\n" +
    "U+2028 here:\u2028 and a control \u0007 character.\n";
  const hostileJsonl = path.join(work, "hostile.jsonl");
  fs.writeFileSync(hostileJsonl, JSON.stringify({ id: hostileId, text: hostileText }) + "\n");
  documents.push(hostileId);

  // The pages that hold the seed are checked against its gold, which the default mode's
  // transformer tagger misses on two boundaries today (docs/EVALUATION.md): they are drawn
  // with fast mode's tagger and the default mode's stance.
  const seedDir = path.join(out, "pages", "seed");
  whosaid(["render", seedPath, "--linear-tagger", "--out", seedDir]);
  const corpusDir = path.join(out, "pages", "corpus");
  whosaid(["render", articles, hostileJsonl, "--linear-tagger", "--out", corpusDir]);
  // The same pages from saved records: extract, then render the records with their texts.
  const records = path.join(work, "records.jsonl");
  fs.writeFileSync(records, whosaid(["extract", seedPath, "--linear-tagger"]).stdout);
  const recordsDir = path.join(out, "pages", "records");
  whosaid(["render", "--records", records, seedPath, "--out", recordsDir]);

  check(!fs.existsSync(path.join(seedDir, "index.html")), "a single article gets no index");

  const { browser, stop } = await startChromium();
  try {
    const context = browser.contexts()[0] || (await browser.newContext());
    await checkSeed(context, path.join(seedDir, `${seedId}.html`), "seed");
    await checkSeed(context, path.join(recordsDir, `${seedId}.html`), "seed-from-records");
    await checkSeed(context, path.join(corpusDir, `${seedId}.html`), "corpus-seed");
    if (polnear) {
      await checkPolnear(context, path.join(corpusDir, `${polnear.id}.html`), "polnear", polnear.text);
    }
    const hostilePage = fs
      .readdirSync(corpusDir)
      .filter((file) => file.endsWith(".html") && file !== "index.html" && !file.startsWith(seedId) && (!polnear || !file.startsWith(polnear.id)));
    check(hostilePage.length === 1, `the hostile article has one page (${hostilePage})`);
    if (hostilePage.length === 1) {
      await checkHostile(context, path.join(corpusDir, hostilePage[0]), "hostile", hostileId, hostileText);
    }
    await checkIndex(context, corpusDir, documents);
  } finally {
    await stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (error) {
  failures.push(`the test could not run: ${error.stack || error}`);
  console.error(`  FAIL ${failures[failures.length - 1]}`);
}
if (failures.length > 0) {
  console.error(`\nbrowser tests: ${failures.length} of ${checks} checks failed; screenshots in ${out}`);
  process.exit(1);
}
console.log(`\nbrowser tests: all ${checks} checks passed; screenshots in ${out}`);
