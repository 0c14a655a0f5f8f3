package dev.offload.gateway.cache;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The signals the {@link DuplicateVerifier} weighs to tell whether a cached question and a new one
 * ask the same thing. An embedding model rates "How do I enable the cache?" and "How do I disable
 * the cache?" as near duplicates (cosine ≈ 0.9); the words that carry the difference are few and
 * known in kind: a negation, a number or a unit, a name, a model or version token, the question
 * word, or a verb turned into its opposite. Each becomes one feature:
 *
 * <ol>
 *   <li>{@code cosine}: the embeddings' cosine (the caller's);</li>
 *   <li>{@code trigram_jaccard}: Jaccard of character trigrams ({@link LexicalOverlap#trigrams});</li>
 *   <li>{@code word_jaccard}: Jaccard of content-word stems ({@link LexicalOverlap#terms});</li>
 *   <li>{@code negation_mismatch}: 1 when the texts hold different numbers of negations
 *       ({@code not}, {@code no}, {@code never}, {@code n't}, {@code cannot}, {@code without}, …;
 *       a leading "No," that answers a question does not count);</li>
 *   <li>{@code number_mismatch}: 1 when the sets of numbers differ (spelled numbers up to twenty
 *       count as their digits, so "5" and "five" agree);</li>
 *   <li>{@code unit_mismatch}: 1 when the sets of units differ ({@code GB} / {@code MB},
 *       {@code hours} / {@code minutes}, {@code °C} / {@code °F}, …);</li>
 *   <li>{@code name_mismatch}: 1 when a capitalised word (a name, a product) of either text
 *       is not a word of the other;</li>
 *   <li>{@code question_type_mismatch}: 1 when the question words differ ({@code how} /
 *       {@code why}; a yes/no question; a statement);</li>
 *   <li>{@code opposite_action}: 1 when one text holds one side of an opposite pair (on/off,
 *       enable/disable, increase/decrease, upload/download, …) that the other turns around;</li>
 *   <li>{@code model_mismatch}: 1 when the tokens mixing letters and digits (device models,
 *       versions: {@code G-2}, {@code v2.10.0}, {@code gpt2}, {@code RTX4090}) or the code
 *       identifiers ({@code `drop`}, {@code num_rows}, {@code set_verbosity()}) differ;</li>
 *   <li>{@code length_ratio}: shorter word count over the longer;</li>
 *   <li>{@code second_cosine}: the cosine under a second embedding model, computed only when a
 *       verifier that uses it checks a candidate (NaN otherwise);</li>
 *   <li>{@code one_word_swapped}: 1 when the two texts are the same words but one, swapped for
 *       another that is neither an inflection of it ({@code line} / {@code lines}) nor one of a
 *       few generic synonyms ({@link #KNOWN_SYNONYMS}): "share" / "withhold", "lines" / "pages",
 *       "PyTorch" / "Datasets", "2.10.0" / "2.10.1". The other signals know words by list; this
 *       one knows none. Rewordings of a whole question seldom differ in one word only (2 of the 497
 *       paraphrases of the training half do), while an edit that turns a question into another
 *       often does — and which swaps keep the meaning is what the features cannot tell, so the
 *       model learns to treat such a pair as uncertain.</li>
 * </ol>
 *
 * <p>A {@link Profile} holds what one text contributes; the cache keeps each entry's, so a
 * verification computes the question's once and compares. Stateless; thread-safe.
 */
public final class PairFeatures {
    /** Feature names, in the order of {@link #of}'s array (the shipped model's file names them). */
    public static final String[] NAMES = {"cosine", "trigram_jaccard", "word_jaccard", "negation_mismatch",
            "number_mismatch", "unit_mismatch", "name_mismatch", "question_type_mismatch", "opposite_action",
            "model_mismatch", "length_ratio", "second_cosine", "one_word_swapped"};
    /**
     * The first-round features (the first this many of {@link #NAMES}), which need nothing but the two texts and the
     * cache's own embedding; {@code one_word_swapped} is one too, but comes after {@code second_cosine}.
     */
    public static final int TEXT_FEATURES = 11;
    /** Index of {@code second_cosine}: the cosine under a second embedding model (NaN when not computed). */
    public static final int SECOND_COSINE = 11;
    /** Index of {@code one_word_swapped} (a text feature, after {@code second_cosine} so older model files still read). */
    public static final int ONE_WORD_SWAPPED = 12;

    /**
     * Generic word pairs that {@code one_word_swapped} does not count as a swap (either direction;
     * single words only): everyday synonyms of technical prose, chosen before any evaluation and
     * also the meaning-keeping edits the verifier is trained on. Deliberately no antonym,
     * unit or domain term.
     */
    public static final String[][] KNOWN_SYNONYMS = {{"use", "utilize"}, {"allows", "lets"}, {"allow", "let"},
            {"create", "make"}, {"build", "construct"}, {"tool", "utility"}, {"platform", "service"},
            {"provides", "offers"}, {"provide", "offer"}, {"method", "function"}, {"library", "package"},
            {"need", "have"}, {"quickly", "rapidly"}, {"easily", "simply"}, {"help", "assist"}, {"shows", "displays"},
            {"show", "display"}, {"get", "obtain"}, {"find", "locate"}, {"change", "modify"}, {"large", "big"},
            {"start", "begin"}, {"select", "choose"}, {"contains", "includes"}, {"files", "documents"},
            {"data", "information"}, {"example", "instance"}, {"way", "manner"}, {"specify", "indicate"},
            {"each", "every"}, {"various", "different"}};
    private static final Set<String> SYNONYM_PAIRS = new java.util.HashSet<>();

    private static final Set<String> NEGATIONS = Set.of("not", "no", "never", "none", "nothing", "nobody", "neither",
            "nor", "without", "cannot", "unable", "nowhere");
    private static final Set<String> WH = Set.of("what", "how", "why", "when", "where", "who", "which", "whose", "whom");
    private static final Set<String> AUX = Set.of("is", "are", "was", "were", "can", "could", "does", "do", "did",
            "should", "would", "will", "has", "have", "had", "may", "might", "must", "shall", "am");
    private static final Map<String, String> SPELLED = new HashMap<>();
    private static final Map<String, String> UNITS = new HashMap<>();
    /** Word → "pair:side"; both sides of a pair share the pair id. */
    private static final Map<String, String> OPPOSITES = new HashMap<>();

    static {
        String[] spelled = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
                "twenty"};
        for (int i = 0; i < spelled.length; i++) {
            SPELLED.put(spelled[i], Integer.toString(i));
        }
        // unit spelling → canonical unit
        String[][] units = {{"b", "byte", "bytes"}, {"kb", "kilobyte", "kilobytes", "kib"}, {"mb", "megabyte", "megabytes", "mib"},
                {"gb", "gigabyte", "gigabytes", "gib"}, {"tb", "terabyte", "terabytes", "tib"}, {"bit", "bits"},
                {"ms", "millisecond", "milliseconds"}, {"s", "sec", "secs", "second", "seconds"},
                {"min", "mins", "minute", "minutes"}, {"h", "hr", "hrs", "hour", "hours"}, {"day", "days"},
                {"week", "weeks"}, {"month", "months"}, {"year", "years"}, {"mg", "milligram", "milligrams"},
                {"g", "gram", "grams"}, {"kg", "kilogram", "kilograms", "kilo", "kilos"}, {"lb", "lbs", "pound", "pounds"},
                {"mm", "millimeter", "millimeters", "millimetre", "millimetres"}, {"cm", "centimeter", "centimeters", "centimetre", "centimetres"},
                {"m", "meter", "meters", "metre", "metres"}, {"km", "kilometer", "kilometers", "kilometre", "kilometres"},
                {"in", "inch", "inches"}, {"ft", "foot", "feet"}, {"mi", "mile", "miles"},
                {"ml", "milliliter", "milliliters", "millilitre", "millilitres"}, {"l", "liter", "liters", "litre", "litres"},
                {"gal", "gallon", "gallons"}, {"c", "°c", "celsius"}, {"f", "°f", "fahrenheit"}, {"kelvin", "k"},
                {"percent", "%", "pct"}, {"degree", "degrees", "°"}, {"v", "volt", "volts"}, {"mv", "millivolt", "millivolts"},
                {"a", "amp", "amps", "ampere", "amperes"}, {"ma", "milliamp", "milliamps"}, {"w", "watt", "watts"},
                {"kw", "kilowatt", "kilowatts"}, {"kwh", "kilowatt-hour", "kilowatt-hours"}, {"hz", "hertz"},
                {"khz", "kilohertz"}, {"mhz", "megahertz"}, {"ghz", "gigahertz"}, {"rpm"}, {"psi"}, {"bar"},
                {"nm", "newton-meter", "newton-meters"}, {"token", "tokens"}, {"epoch", "epochs"}, {"step", "steps"},
                {"px", "pixel", "pixels"}, {"dpi"}, {"fps"}, {"usd", "$", "dollar", "dollars"}, {"eur", "€", "euro", "euros"}};
        for (String[] u : units) {
            for (String s : u) {
                UNITS.put(s, u[0]);
            }
        }
        String[][] opposites = {{"on", "off"}, {"enable", "disable"}, {"enabled", "disabled"}, {"increase", "decrease"},
                {"increasing", "decreasing"}, {"start", "stop"}, {"open", "close"}, {"lock", "unlock"},
                {"connect", "disconnect"}, {"install", "uninstall"}, {"add", "remove"}, {"upload", "download"},
                {"include", "exclude"}, {"allow", "deny"}, {"accept", "reject"}, {"show", "hide"}, {"push", "pull"},
                {"encode", "decode"}, {"encrypt", "decrypt"}, {"compress", "decompress"}, {"import", "export"},
                {"minimum", "maximum"}, {"min", "max"}, {"before", "after"}, {"above", "below"}, {"higher", "lower"},
                {"more", "less"}, {"faster", "slower"}, {"larger", "smaller"}, {"bigger", "smaller"}, {"public", "private"},
                {"input", "output"}, {"mount", "unmount"}, {"activate", "deactivate"}, {"attach", "detach"},
                {"freeze", "unfreeze"}, {"load", "unload"}, {"first", "last"}, {"true", "false"}, {"success", "failure"},
                {"succeed", "fail"}, {"raise", "lower"}, {"up", "down"}, {"upper", "lower"}, {"in", "out"}, {"inside", "outside"},
                {"online", "offline"}, {"supported", "unsupported"}, {"available", "unavailable"}, {"valid", "invalid"},
                {"visible", "invisible"}, {"required", "optional"}, {"always", "never"}, {"all", "none"},
                {"internal", "external"}, {"read", "write"}, {"send", "receive"}, {"buy", "sell"}, {"win", "lose"},
                {"cheaper", "expensive"}, {"hot", "cold"}, {"warm", "cool"}, {"heat", "cool"}, {"charge", "discharge"},
                {"arm", "disarm"}, {"mute", "unmute"}, {"pause", "resume"}, {"join", "leave"}, {"login", "logout"},
                {"subscribe", "unsubscribe"}, {"follow", "unfollow"}, {"pin", "unpin"}, {"block", "unblock"},
                {"plug", "unplug"}, {"pair", "unpair"}, {"wrap", "unwrap"}, {"zip", "unzip"}, {"pack", "unpack"},
                {"merge", "split"}, {"create", "delete"}, {"insert", "delete"}, {"save", "discard"}, {"keep", "discard"},
                {"forward", "backward"}, {"left", "right"}, {"early", "late"}, {"earlier", "later"}, {"dark", "light"},
                {"strong", "weak"}, {"positive", "negative"}, {"same", "different"}, {"with", "without"},
                {"allow", "prevent"}, {"allow", "forbid"}, {"fast", "slow"}, {"easy", "hard"}, {"easy", "difficult"},
                {"easier", "harder"}, {"good", "bad"}, {"better", "worse"}, {"best", "worst"}, {"high", "low"},
                {"new", "old"}, {"newer", "older"}, {"simple", "complex"}, {"large", "small"}, {"big", "small"},
                {"more", "fewer"}, {"many", "few"}, {"most", "least"}, {"increase", "reduce"}, {"safe", "unsafe"},
                {"secure", "insecure"}, {"correct", "incorrect"}, {"possible", "impossible"}, {"able", "unable"},
                {"enough", "insufficient"}, {"cheap", "expensive"}, {"full", "empty"}, {"long", "short"},
                {"longer", "shorter"}, {"wide", "narrow"}, {"begin", "end"}, {"win", "lose"}, {"gain", "lose"},
                {"pass", "fail"}, {"include", "omit"}, {"grant", "revoke"}, {"approve", "reject"}, {"approved", "rejected"},
                {"enter", "exit"}, {"arrive", "depart"}, {"inbound", "outbound"}, {"get", "set"}, {"row", "column"},
                {"rows", "columns"}, {"train", "test"}, {"training", "inference"}, {"encoder", "decoder"}};
        for (String[] p : KNOWN_SYNONYMS) {
            SYNONYM_PAIRS.add(p[0] + " " + p[1]);
            SYNONYM_PAIRS.add(p[1] + " " + p[0]);
        }
        for (int i = 0; i < opposites.length; i++) {
            for (int side = 0; side < 2; side++) {
                OPPOSITES.merge(opposites[i][side], i + ":" + side, (a, b) -> a + "," + b);
            }
        }
    }

    private PairFeatures() {
    }

    /** Number of features. */
    public static int count() {
        return NAMES.length;
    }

    /** What one text contributes to the features; immutable. */
    public static final class Profile {
        final long[] trigrams;
        final int[] terms;
        final int negations;
        final Set<String> numbers;
        final Set<String> units;
        final Set<String> names;
        final Set<String> words;
        final String questionType;
        /** Occurrences of each side of an opposite pair, keyed "pair:side". */
        final Map<String, Integer> actions;
        final Set<String> models;
        final int wordCount;
        /** Each lower-case word (punctuation and possessive off) with how often it occurs. */
        final Map<String, Integer> wordCounts;

        private Profile(long[] trigrams, int[] terms, int negations, Set<String> numbers, Set<String> units,
                        Set<String> names, Set<String> words, String questionType, Map<String, Integer> actions,
                        Set<String> models, int wordCount, Map<String, Integer> wordCounts) {
            this.wordCounts = wordCounts;
            this.trigrams = trigrams;
            this.terms = terms;
            this.negations = negations;
            this.numbers = numbers;
            this.units = units;
            this.names = names;
            this.words = words;
            this.questionType = questionType;
            this.actions = actions;
            this.models = models;
            this.wordCount = wordCount;
        }

        /** Rough heap estimate, for the cache's byte accounting. */
        long estimatedBytes() {
            long n = 96 + 16 + 8L * trigrams.length + 16 + 4L * terms.length;
            n += 48L * actions.size() + 56L * wordCounts.size();
            for (Set<String> s : java.util.List.of(numbers, units, names, words, models)) {
                n += 32;
                for (String x : s) {
                    n += 48 + 2L * x.length();
                }
            }
            return n;
        }
    }

    /** The profile of one text (a question, cached or asked). */
    public static Profile profile(String text) {
        String normalized = LexicalOverlap.normalize(text);
        Set<String> numbers = new TreeSet<>();
        Set<String> units = new TreeSet<>();
        Set<String> names = new TreeSet<>();
        Set<String> words = new TreeSet<>();
        Map<String, Integer> actions = new HashMap<>();
        Map<String, Integer> wordCounts = new HashMap<>();
        Set<String> models = new TreeSet<>();
        int negations = 0;
        String questionType = null;
        boolean sentenceStart = true;
        boolean afterNumber = false;
        int wordCount = 0;
        for (String raw : QuestionTokens.split(text)) {
            String t = QuestionTokens.strip(raw, "$€°");
            boolean endsSentence = QuestionTokens.endsSentence(raw);
            if (t.isEmpty()) {
                sentenceStart |= endsSentence;
                continue;
            }
            wordCount++;
            String lower = t.toLowerCase(Locale.ROOT);
            words.add(QuestionTokens.possessiveless(lower));
            wordCounts.merge(QuestionTokens.possessiveless(lower), 1, Integer::sum);
            if (questionType == null) {
                questionType = WH.contains(lower) ? lower : AUX.contains(lower) ? "yes/no" : "statement";
            } else if ("statement".equals(questionType) && WH.contains(lower) && wordCount <= 3) {
                questionType = lower; // "So, how ...", "And what ..."
            }
            // "No, ..." answering a question is not a negation of what follows.
            boolean answerWord = wordCount == 1 && "no".equals(lower) && raw.endsWith(",");
            if (!answerWord && (NEGATIONS.contains(lower) || lower.endsWith("n't") || lower.endsWith("n’t"))) {
                negations++;
            }
            if (isCode(raw)) {
                models.add(codeName(lower)); // num_rows, `drop`, set_verbosity(), Table.to_batches
            }
            boolean digit = QuestionTokens.hasDigit(lower);
            boolean letter = hasLetter(lower);
            boolean isNumber = false;
            if (digit && !letter) {
                // 1,024 / 3.5 / 10:30 / 50% / $20: the number, and the unit a sign stands for
                String num = QuestionTokens.withoutThousands(lower);
                if (num.endsWith("%")) {
                    units.add("percent");
                    num = num.substring(0, num.length() - 1);
                }
                if (num.startsWith("$")) {
                    units.add("usd");
                    num = num.substring(1);
                }
                numbers.add(num);
                isNumber = true;
            } else if (digit) {
                // 10gb, 5kg: a number glued to a unit; otherwise a model or version token
                int i = 0;
                while (i < lower.length() && (Character.isDigit(lower.charAt(i)) || lower.charAt(i) == '.')) {
                    i++;
                }
                String tail = lower.substring(i);
                if (i > 0 && UNITS.containsKey(tail)) {
                    numbers.add(lower.substring(0, i));
                    units.add(UNITS.get(tail));
                } else {
                    models.add(lower);
                }
            } else if (SPELLED.containsKey(lower)) {
                numbers.add(SPELLED.get(lower));
                isNumber = true;
            } else {
                String unit = UNITS.get(lower);
                // One- and two-letter units ("m", "in", "a") only right after a number.
                if (unit != null && (afterNumber || lower.length() > 2 || "%$€°".indexOf(lower.charAt(0)) >= 0)) {
                    units.add(unit);
                }
                String side = opposite(lower);
                if (side != null) {
                    for (String s : side.split(",")) {
                        actions.merge(s, 1, Integer::sum);
                    }
                }
                if (!sentenceStart && Character.isUpperCase(t.codePointAt(0)) && !"i".equals(lower)) {
                    names.add(QuestionTokens.possessiveless(lower));
                }
            }
            afterNumber = isNumber;
            sentenceStart = endsSentence;
        }
        return new Profile(LexicalOverlap.trigrams(normalized), LexicalOverlap.terms(normalized), negations,
                Set.copyOf(numbers), Set.copyOf(units), Set.copyOf(names), Set.copyOf(words),
                questionType == null ? "statement" : questionType, Map.copyOf(actions), Set.copyOf(models), wordCount,
                Map.copyOf(wordCounts));
    }

    /** The features of a pair, in the order of {@link #NAMES}, without a second embedding ({@code second_cosine} NaN). */
    public static double[] of(double cosine, Profile asked, Profile cached) {
        return of(cosine, Double.NaN, asked, cached);
    }

    /** The features of a pair, in the order of {@link #NAMES}; {@code secondCosine} NaN when no second model ran. */
    public static double[] of(double cosine, double secondCosine, Profile asked, Profile cached) {
        double[] f = new double[NAMES.length];
        f[SECOND_COSINE] = secondCosine;
        f[0] = cosine;
        f[1] = LexicalOverlap.jaccard(asked.trigrams, cached.trigrams);
        f[2] = LexicalOverlap.jaccard(asked.terms, cached.terms);
        f[3] = asked.negations != cached.negations ? 1 : 0;
        f[4] = asked.numbers.equals(cached.numbers) ? 0 : 1;
        f[5] = asked.units.equals(cached.units) ? 0 : 1;
        f[6] = nameMismatch(asked, cached);
        f[7] = asked.questionType.equals(cached.questionType) ? 0 : 1;
        f[8] = opposed(asked.actions, cached.actions) ? 1 : 0;
        f[9] = asked.models.equals(cached.models) ? 0 : 1;
        f[10] = Math.max(asked.wordCount, cached.wordCount) == 0 ? 1
                : (double) Math.min(asked.wordCount, cached.wordCount) / Math.max(asked.wordCount, cached.wordCount);
        f[ONE_WORD_SWAPPED] = oneWordSwapped(asked.wordCounts, cached.wordCounts) ? 1 : 0;
        return f;
    }

    /**
     * Whether the two word multisets differ in exactly one word on each side, the two words
     * neither inflections of one stem, nor a {@link #KNOWN_SYNONYMS known synonym} pair, nor both
     * stopwords ("a" / "the").
     */
    private static boolean oneWordSwapped(Map<String, Integer> a, Map<String, Integer> b) {
        String onlyA = onlyWord(a, b);
        String onlyB = onlyA == null ? null : onlyWord(b, a);
        if (onlyA == null || onlyB == null) {
            return false;
        }
        if (LexicalOverlap.isStopword(onlyA) && LexicalOverlap.isStopword(onlyB)) {
            return false;
        }
        return !stem(onlyA).equals(stem(onlyB)) && !SYNONYM_PAIRS.contains(onlyA + " " + onlyB);
    }

    /** The one word {@code a} holds more often than {@code b}; null when there is none or more than one occurrence. */
    private static String onlyWord(Map<String, Integer> a, Map<String, Integer> b) {
        String only = null;
        int extra = 0;
        for (Map.Entry<String, Integer> e : a.entrySet()) {
            int d = e.getValue() - b.getOrDefault(e.getKey(), 0);
            if (d > 0) {
                extra += d;
                if (extra > 1) {
                    return null;
                }
                only = e.getKey();
            }
        }
        return only;
    }

    /** The word without one common English inflection (lines → line, uses → use, used → use, studies → study). */
    static String stem(String w) {
        if (w.length() > 4 && w.endsWith("ies")) {
            return w.substring(0, w.length() - 3) + "y";
        }
        String s = w;
        for (String suffix : new String[]{"ing", "es", "ed", "s", "d"}) {
            if (w.length() >= suffix.length() + 2 && w.endsWith(suffix)) {
                s = w.substring(0, w.length() - suffix.length());
                break;
            }
        }
        return s.length() > 2 && s.endsWith("e") ? s.substring(0, s.length() - 1) : s;
    }

    /** The features of two texts (profiles computed here). */
    public static double[] of(double cosine, String asked, String cached) {
        return of(cosine, profile(asked), profile(cached));
    }

    /**
     * Whether some opposite pair is turned around: one text has more of one side and the other
     * more of the other side ("find it off the main version ... clicking on" against "find it on
     * the main version ... clicking on": one "off" more, one "on" fewer).
     */
    private static boolean opposed(Map<String, Integer> a, Map<String, Integer> b) {
        for (Map<String, Integer> m : java.util.List.of(a, b)) {
            for (String s : m.keySet()) {
                int colon = s.indexOf(':');
                String side0 = s.substring(0, colon + 1) + '0';
                String side1 = s.substring(0, colon + 1) + '1';
                int d0 = a.getOrDefault(side0, 0) - b.getOrDefault(side0, 0);
                int d1 = a.getOrDefault(side1, 0) - b.getOrDefault(side1, 0);
                if ((d0 > 0 && d1 < 0) || (d0 < 0 && d1 > 0)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** 1 when a name (a capitalised word not starting a sentence) of either text is not a word of the other. */
    private static double nameMismatch(Profile a, Profile b) {
        int total = a.names.size() + b.names.size();
        if (total == 0) {
            return 0;
        }
        int missing = 0;
        for (String n : a.names) {
            if (!b.words.contains(n)) {
                missing++;
            }
        }
        for (String n : b.names) {
            if (!a.words.contains(n)) {
                missing++;
            }
        }
        return missing > 0 ? 1 : 0;
    }

    /** The opposite-pair sides of a word or of its stem without a common inflection. */
    private static String opposite(String w) {
        String s = OPPOSITES.get(w);
        if (s != null) {
            return s;
        }
        for (String suffix : new String[]{"s", "es", "d", "ed", "ing"}) {
            if (w.length() > suffix.length() + 2 && w.endsWith(suffix)) {
                s = OPPOSITES.get(w.substring(0, w.length() - suffix.length()));
                if (s == null && (suffix.equals("ed") || suffix.equals("ing"))) {
                    s = OPPOSITES.get(w.substring(0, w.length() - suffix.length()) + "e"); // closed → close, enabling → enable
                }
                if (s != null) {
                    return s;
                }
            }
        }
        return null;
    }

    /** A code identifier: in backticks, or with an underscore, a call's parentheses or a dotted member. */
    private static boolean isCode(String raw) {
        return raw.indexOf('`') >= 0 || raw.indexOf('_') > 0 || raw.contains("()")
                || raw.matches(".*[a-z][.][a-z_]+\\(.*");
    }

    /** The identifier without quoting, call parentheses and trailing punctuation. */
    private static String codeName(String lower) {
        String t = lower.replace("`", "");
        int paren = t.indexOf('(');
        return paren > 0 ? t.substring(0, paren) : t;
    }

    private static boolean hasLetter(String t) {
        for (int i = 0; i < t.length(); i++) {
            if (Character.isLetter(t.charAt(i))) {
                return true;
            }
        }
        return false;
    }
}
