package dev.offload.gateway.bench.verifier;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offload.gateway.bench.Args;
import dev.offload.gateway.bench.verifier.CachePairs.Group;
import dev.offload.gateway.bench.verifier.CachePairs.Half;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Questions a cache must <em>not</em> answer, made mechanically from the cached origins of the
 * GPTCache pairs: each is an origin with one edit that changes what it asks, or an origin that is
 * never cached. The rules, applied to every cached origin in file order, each at most once:
 *
 * <ul>
 *   <li>{@code negation}: "X is not" → "X is" (and "isn't" → "is", "cannot" → "can", …); else the
 *       first auxiliary (is, are, can, does, do, should, will, has, …) gets a "not" ("can" →
 *       "cannot").</li>
 *   <li>{@code number}: the last digit run of the first token with a digit plus one
 *       ({@code 2.10.0} → {@code 2.10.1}, {@code 16} → {@code 17}); a spelled number one–ten
 *       becomes the next one.</li>
 *   <li>{@code unit}: a unit swapped with its neighbour ({@code GB} ↔ {@code MB}, hours ↔
 *       minutes, seconds ↔ milliseconds, …).</li>
 *   <li>{@code entity}: a capitalised word that is not at the start of a sentence and is one of
 *       the corpus's entities (capitalised in at least three origins: PyTorch, TensorFlow, Hub, …)
 *       becomes the next most frequent entity the origin does not name.</li>
 *   <li>{@code model}: a token mixing letters and digits (a model or version: {@code gpt2},
 *       {@code t5}, {@code v4}) gets its last digit run plus one; else a model family name is
 *       swapped for another ({@code BERT} → {@code RoBERTa}, {@code Whisper} → {@code Wav2Vec2}).</li>
 *   <li>{@code opposite-action}: a word of {@link #OPPOSITES} (its base, -s, past and -ing forms)
 *       becomes its opposite (enable → disable, upload → download, faster → slower, …). The list
 *       is this generator's own: 8 of its 49 pairs (share/withhold, support/drop, local/remote,
 *       accept/refuse, latest/oldest, manual/automatic, synchronous/asynchronous, free/paid) are
 *       not in the verifier's dictionary ({@code PairFeatures}), so those held-out opposites test
 *       what the verifier was not told; the other 41 test only its implementation.</li>
 *   <li>{@code unrelated}: a withheld origin (never cached; {@link CachePairs}): another question of
 *       the same domain.</li>
 * </ul>
 *
 * <p>Each rule takes at most {@link #CAP} questions per half, the first in file order; the set's
 * {@code split} is the half of the origin it was made from ({@code train}: used to train and tune
 * the verifier; {@code held-out}: never used for either). Mechanical edits are not all
 * meaning-changing (an "after" in a subordinate clause, "more" in "learn more"); they are kept as
 * made, so the set slightly overstates the verifier's misses on true opposites.
 *
 * <pre>./mvnw -q test-compile exec:exec@cache-negatives -Dbench.args="--dataset ../shared/data/cache/gptcache-paraphrase-pairs.json"</pre>
 * writes {@code src/test/resources/cache/negatives.jsonl} (one JSON object a line).
 */
public final class NegativeQuestions {
    /** The file in the test resources. */
    public static final String RESOURCE = "/cache/negatives.jsonl";
    static final Map<String, Integer> CAP = Map.of("negation", 45, "number", 30, "unit", 20, "entity", 40,
            "model", 30, "opposite-action", 40, "unrelated", 40);

    /** One negative: the question, the rule that made it, the cached origin it was made from (null for unrelated). */
    public record Negative(String split, String rule, String origin, String question, String edit) {
        public boolean heldOut() {
            return "held-out".equals(split);
        }
    }

    private static final String[][] OPPOSITES = {{"enable", "disable"}, {"increase", "decrease"}, {"upload", "download"},
            {"add", "remove"}, {"install", "uninstall"}, {"start", "stop"}, {"open", "close"}, {"push", "pull"},
            {"encode", "decode"}, {"import", "export"}, {"include", "exclude"}, {"show", "hide"}, {"create", "delete"},
            {"allow", "prevent"}, {"accept", "refuse"}, {"support", "drop"}, {"share", "withhold"}, {"public", "private"},
            {"input", "output"}, {"before", "after"}, {"maximum", "minimum"}, {"larger", "smaller"}, {"more", "fewer"},
            {"faster", "slower"}, {"fast", "slow"}, {"easy", "hard"}, {"easier", "harder"}, {"good", "bad"},
            {"better", "worse"}, {"best", "worst"}, {"high", "low"}, {"new", "old"}, {"latest", "oldest"},
            {"simple", "complex"}, {"online", "offline"}, {"local", "remote"}, {"manual", "automatic"},
            {"synchronous", "asynchronous"}, {"large", "small"}, {"big", "small"}, {"free", "paid"},
            {"success", "failure"}, {"true", "false"}, {"first", "last"}, {"on", "off"}, {"with", "without"},
            {"always", "never"}, {"increases", "reduces"}};
    private static final Map<String, String> OPPOSITE_FORMS = new HashMap<>();
    private static final String[][] UNITS = {{"GB", "MB"}, {"KB", "MB"}, {"TB", "GB"}, {"hours", "minutes"},
            {"hour", "minute"}, {"minutes", "seconds"}, {"seconds", "milliseconds"}, {"days", "weeks"}, {"ms", "s"},
            {"kg", "g"}, {"km", "m"}, {"percent", "points"}, {"%", " points"}, {"tokens", "characters"},
            {"epochs", "steps"}, {"pixels", "inches"}, {"bytes", "bits"}, {"words", "tokens"}, {"lines", "pages"}};
    private static final String[][] MODELS = {{"bert", "RoBERTa"}, {"roberta", "BERT"}, {"distilbert", "ALBERT"},
            {"bart", "Pegasus"}, {"whisper", "Wav2Vec2"}, {"vit", "DeiT"}, {"clip", "BLIP"}, {"llama", "Mistral"},
            {"gpt", "BLOOM"}, {"resnet", "ConvNeXt"}, {"stable", "unstable"}};
    private static final Pattern NEGATED = Pattern.compile("\\b(is|are|was|were|does|do|did|can|could|should|will|would|has|have|must) not\\b",
            Pattern.CASE_INSENSITIVE);
    private static final Map<String, String> CONTRACTED = Map.ofEntries(Map.entry("isn't", "is"), Map.entry("aren't", "are"),
            Map.entry("doesn't", "does"), Map.entry("don't", "do"), Map.entry("didn't", "did"), Map.entry("can't", "can"),
            Map.entry("cannot", "can"), Map.entry("won't", "will"), Map.entry("wasn't", "was"), Map.entry("shouldn't", "should"),
            Map.entry("hasn't", "has"), Map.entry("haven't", "have"));
    private static final Pattern AUX = Pattern.compile("\\b(is|are|was|were|can|does|do|did|should|will|would|has|have|must)\\b",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern DIGITS = Pattern.compile("\\d+");
    private static final String[] SPELLED = {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven"};

    static {
        for (String[] p : OPPOSITES) {
            List<String> a = forms(p[0]);
            List<String> b = forms(p[1]);
            for (int i = 0; i < a.size(); i++) {
                OPPOSITE_FORMS.putIfAbsent(a.get(i), b.get(i));
                OPPOSITE_FORMS.putIfAbsent(b.get(i), a.get(i));
            }
        }
    }

    private NegativeQuestions() {
    }

    public static void main(String[] args) throws IOException {
        Map<String, String> opts = Args.parse(args);
        CachePairs pairs = CachePairs.read(Path.of(opts.getOrDefault("dataset", "../shared/data/cache/gptcache-paraphrase-pairs.json")));
        Path out = Path.of(opts.getOrDefault("out", "src/test/resources/cache/negatives.jsonl"));
        List<Negative> negatives = generate(pairs);
        ObjectMapper json = new ObjectMapper();
        StringBuilder sb = new StringBuilder();
        for (Negative n : negatives) {
            ObjectNode o = json.createObjectNode();
            o.put("split", n.split());
            o.put("rule", n.rule());
            o.put("origin", n.origin());
            o.put("question", n.question());
            o.put("edit", n.edit());
            sb.append(json.writeValueAsString(o)).append('\n');
        }
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, sb.toString());
        Map<String, Map<String, Integer>> counts = new TreeMap<>();
        for (Negative n : negatives) {
            counts.computeIfAbsent(n.rule(), r -> new TreeMap<>()).merge(n.split(), 1, Integer::sum);
        }
        System.out.printf("%d negatives written to %s%n| rule | train | held-out |%n|---|---|---|%n", negatives.size(), out);
        counts.forEach((rule, c) -> System.out.printf("| %s | %d | %d |%n", rule, c.getOrDefault("train", 0),
                c.getOrDefault("held-out", 0)));
    }

    /** The set, deterministic for the data set (no randomness). */
    public static List<Negative> generate(CachePairs pairs) {
        List<String> entities = entities(pairs);
        List<Negative> out = new ArrayList<>();
        for (Half half : Half.values()) {
            String split = half == Half.TRAIN ? "train" : "held-out";
            Map<String, Integer> taken = new HashMap<>();
            for (Group g : pairs.half(half)) {
                if (g.withheld()) {
                    add(out, taken, new Negative(split, "unrelated", null, g.origin(), "origin never cached"));
                    continue;
                }
                String o = g.origin();
                negation(o).ifPresent(e -> add(out, taken, new Negative(split, "negation", o, e[0], e[1])));
                number(o).ifPresent(e -> add(out, taken, new Negative(split, "number", o, e[0], e[1])));
                unit(o).ifPresent(e -> add(out, taken, new Negative(split, "unit", o, e[0], e[1])));
                entity(o, entities).ifPresent(e -> add(out, taken, new Negative(split, "entity", o, e[0], e[1])));
                model(o).ifPresent(e -> add(out, taken, new Negative(split, "model", o, e[0], e[1])));
                opposite(o).ifPresent(e -> add(out, taken, new Negative(split, "opposite-action", o, e[0], e[1])));
            }
        }
        return out;
    }

    private static void add(List<Negative> out, Map<String, Integer> taken, Negative n) {
        if (n.origin() != null && n.question().equals(n.origin())) {
            return;
        }
        if (taken.getOrDefault(n.rule(), 0) < CAP.get(n.rule())) {
            taken.merge(n.rule(), 1, Integer::sum);
            out.add(n);
        }
    }

    /** Reads the set from the test resources. */
    public static List<Negative> load() throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<Negative> out = new ArrayList<>();
        try (InputStream in = NegativeQuestions.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + RESOURCE);
            }
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank()) {
                    continue;
                }
                var n = json.readTree(line);
                out.add(new Negative(n.get("split").asText(), n.get("rule").asText(),
                        n.get("origin").isNull() ? null : n.get("origin").asText(), n.get("question").asText(),
                        n.get("edit").asText()));
            }
        }
        return out;
    }

    static Optional<String[]> negation(String o) {
        Matcher m = NEGATED.matcher(o);
        if (m.find()) {
            return Optional.of(new String[]{o.substring(0, m.start()) + m.group(1) + o.substring(m.end()), m.group() + " → " + m.group(1)});
        }
        Matcher w = Pattern.compile("\\b[A-Za-z]+(n't|not)\\b").matcher(o);
        while (w.find()) {
            String pos = CONTRACTED.get(w.group().toLowerCase(Locale.ROOT));
            if (pos != null) {
                String keep = Character.isUpperCase(w.group().charAt(0)) ? Character.toUpperCase(pos.charAt(0)) + pos.substring(1) : pos;
                return Optional.of(new String[]{o.substring(0, w.start()) + keep + o.substring(w.end()), w.group() + " → " + keep});
            }
        }
        Matcher a = AUX.matcher(o);
        if (a.find()) {
            String neg = a.group().equalsIgnoreCase("can") ? a.group() + "not" : a.group() + " not";
            return Optional.of(new String[]{o.substring(0, a.start()) + neg + o.substring(a.end()), a.group() + " → " + neg});
        }
        return Optional.empty();
    }

    static Optional<String[]> number(String o) {
        String[] tokens = o.split(" ");
        for (int i = 0; i < tokens.length; i++) {
            String t = tokens[i];
            Matcher m = DIGITS.matcher(t);
            int start = -1;
            int end = -1;
            while (m.find()) {
                start = m.start();
                end = m.end();
            }
            if (start >= 0 && !hasLetter(t)) {
                String bumped = t.substring(0, start) + (Long.parseLong(t.substring(start, end)) + 1) + t.substring(end);
                return Optional.of(new String[]{replaceToken(tokens, i, bumped), t + " → " + bumped});
            }
            String lower = strip(t).toLowerCase(Locale.ROOT);
            for (int k = 0; k < SPELLED.length - 1; k++) {
                if (lower.equals(SPELLED[k])) {
                    String next = t.replace(strip(t), SPELLED[k + 1]);
                    return Optional.of(new String[]{replaceToken(tokens, i, next), t + " → " + next});
                }
            }
        }
        return Optional.empty();
    }

    static Optional<String[]> unit(String o) {
        String[] tokens = o.split(" ");
        for (int i = 0; i < tokens.length; i++) {
            String core = strip(tokens[i]);
            for (String[] u : UNITS) {
                for (int side = 0; side < 2; side++) {
                    if (core.equalsIgnoreCase(u[side]) && !core.isEmpty()) {
                        String swapped = tokens[i].replace(core, u[1 - side].strip());
                        return Optional.of(new String[]{replaceToken(tokens, i, swapped), core + " → " + u[1 - side].strip()});
                    }
                }
                // 10GB, 5ms: a number glued to its unit
                Matcher g = Pattern.compile("^(\\d+(?:\\.\\d+)?)(" + Pattern.quote(u[0]) + "|" + Pattern.quote(u[1].strip()) + ")$",
                        Pattern.CASE_INSENSITIVE).matcher(core);
                if (g.matches()) {
                    String other = g.group(2).equalsIgnoreCase(u[0]) ? u[1].strip() : u[0];
                    String swapped = tokens[i].replace(core, g.group(1) + other);
                    return Optional.of(new String[]{replaceToken(tokens, i, swapped), core + " → " + g.group(1) + other});
                }
            }
        }
        return Optional.empty();
    }

    static Optional<String[]> entity(String o, List<String> entities) {
        String[] tokens = o.split(" ");
        for (int i = 1; i < tokens.length; i++) {
            String core = strip(tokens[i]);
            if (tokens[i - 1].endsWith(".") || !entities.contains(core)) {
                continue;
            }
            for (String e : entities) {
                if (!o.contains(e)) {
                    return Optional.of(new String[]{replaceToken(tokens, i, tokens[i].replace(core, e)), core + " → " + e});
                }
            }
        }
        return Optional.empty();
    }

    static Optional<String[]> model(String o) {
        String[] tokens = o.split(" ");
        for (int i = 0; i < tokens.length; i++) {
            String core = strip(tokens[i]);
            if (hasLetter(core) && DIGITS.matcher(core).find() && !core.contains("@")) {
                Matcher m = DIGITS.matcher(core);
                int start = -1;
                int end = -1;
                while (m.find()) {
                    start = m.start();
                    end = m.end();
                }
                String bumped = core.substring(0, start) + (Long.parseLong(core.substring(start, end)) + 1) + core.substring(end);
                return Optional.of(new String[]{replaceToken(tokens, i, tokens[i].replace(core, bumped)), core + " → " + bumped});
            }
        }
        for (int i = 0; i < tokens.length; i++) {
            String core = strip(tokens[i]);
            for (String[] m : MODELS) {
                if (core.equalsIgnoreCase(m[0])) {
                    return Optional.of(new String[]{replaceToken(tokens, i, tokens[i].replace(core, m[1])), core + " → " + m[1]});
                }
            }
        }
        return Optional.empty();
    }

    static Optional<String[]> opposite(String o) {
        String[] tokens = o.split(" ");
        for (int i = 0; i < tokens.length; i++) {
            String core = strip(tokens[i]);
            String lower = core.toLowerCase(Locale.ROOT);
            String opp = OPPOSITE_FORMS.get(lower);
            if (opp != null && !core.isEmpty()) {
                String cased = Character.isUpperCase(core.charAt(0)) ? Character.toUpperCase(opp.charAt(0)) + opp.substring(1) : opp;
                return Optional.of(new String[]{replaceToken(tokens, i, tokens[i].replace(core, cased)), core + " → " + cased});
            }
        }
        return Optional.empty();
    }

    /** Base, -s, past and -ing forms of a word (adjectives and nouns get the same, harmlessly unmatched). */
    static List<String> forms(String w) {
        if (w.equals("stop")) {
            return List.of("stop", "stops", "stopped", "stopping");
        }
        if (w.equals("drop")) {
            return List.of("drop", "drops", "dropped", "dropping");
        }
        if (w.endsWith("e")) {
            return List.of(w, w + "s", w + "d", w.substring(0, w.length() - 1) + "ing");
        }
        return List.of(w, w + "s", w + "ed", w + "ing");
    }

    /** Capitalised words (not at a sentence start) of at least three letters found in ≥ 3 origins, most frequent first. */
    static List<String> entities(CachePairs pairs) {
        Map<String, Integer> count = new LinkedHashMap<>();
        for (Group g : pairs.groups()) {
            String[] tokens = g.origin().split(" ");
            java.util.Set<String> seen = new java.util.HashSet<>();
            for (int i = 1; i < tokens.length; i++) {
                String core = strip(tokens[i]);
                if (core.length() >= 3 && Character.isUpperCase(core.charAt(0)) && core.chars().allMatch(Character::isLetter)
                        && !tokens[i - 1].endsWith(".") && seen.add(core)) {
                    count.merge(core, 1, Integer::sum);
                }
            }
        }
        return count.entrySet().stream().filter(e -> e.getValue() >= 3)
                .sorted(Map.Entry.<String, Integer>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                .map(Map.Entry::getKey).toList();
    }

    private static String replaceToken(String[] tokens, int i, String with) {
        String[] copy = tokens.clone();
        copy[i] = with;
        return String.join(" ", copy);
    }

    private static boolean hasLetter(String t) {
        return t.chars().anyMatch(Character::isLetter);
    }

    private static String strip(String raw) {
        int from = 0;
        int to = raw.length();
        while (from < to && !Character.isLetterOrDigit(raw.charAt(from)) && raw.charAt(from) != '%') {
            from++;
        }
        while (to > from && !Character.isLetterOrDigit(raw.charAt(to - 1)) && raw.charAt(to - 1) != '%') {
            to--;
        }
        return raw.substring(from, to);
    }
}
