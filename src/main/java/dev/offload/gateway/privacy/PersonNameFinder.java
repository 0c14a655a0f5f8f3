package dev.offload.gateway.privacy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds person names in English text with a gazetteer and context rules. This is <em>not</em>
 * named-entity recognition: no statistical model for English person names ships on Maven
 * Central under a licence an Apache-2.0 project can ship (see privacy.md), so the finder knows
 * only the names on its lists and a few ways people introduce a name.
 *
 * <p>The text is cut into chains of capitalised words ("Anna Maria Schmidt", "J. R. Tolkien",
 * "Vincent van Gogh") and a chain is a name when
 * <ol>
 * <li>a title stands before it ({@code Mr}, {@code Dr.}, {@code Prof} ...: "Dr. Okafor"), or a
 * phrase that introduces a name ("my name is", "Dear", "Regards,", "named"): the whole chain,
 * at most four words;</li>
 * <li>otherwise from its first word that is a known first name on: that word and the
 * capitalised words after it. A first name that is also a common word, month or place ("Will",
 * "May", "Georgia", "Grace") counts only when a known surname follows it, or when another
 * capitalised word follows it and it does not start a sentence.</li>
 * </ol>
 * A chain that ends in a word naming a place or an organisation ("Victoria Station", "Anna
 * Street", "Francis Crick Institute") is no person. Names written in lower case, surnames alone
 * without a title, and names not on the lists are missed; first names inside place or brand
 * names not marked as such ("Jackson Hole", "Melody Maker") are false findings.
 *
 * <p>The lists: {@link #fromDatafaker()} reads the English first names (about 5,500) and last
 * names (about 470) of Datafaker's {@code en/name.yml}, and its countries and US states, whose
 * first names ("Georgia", "Virginia") become ambiguous ones; the common-word first names are
 * a hand-made list in this class.
 *
 * <p>Immutable and thread-safe: one instance serves every request.
 */
final class PersonNameFinder {
    /** A name's span {@code [start, end)} in the text. */
    record Name(int start, int end) {
    }

    /** First names that are also common English words, months, days or product names. */
    private static final Set<String> COMMON_WORD_FIRST_NAMES = Set.of(
            "Will", "May", "June", "April", "August", "Mark", "Bill", "Grant", "Rose", "Hope", "Faith", "Joy",
            "Grace", "Art", "Chase", "Dawn", "Frank", "Gene", "Guy", "Jack", "Ray", "Rich", "Rob", "Sandy",
            "Summer", "Autumn", "Winter", "Sunny", "Page", "Lane", "Lee", "Chance", "Cliff", "Dale", "Dean",
            "Drew", "Glen", "Heath", "Hunter", "Iris", "Ivy", "Jade", "Jewel", "King", "Lily", "Major",
            "Marshall", "Max", "Miles", "Penny", "Pearl", "Ruby", "Sky", "Star", "Sterling", "Stone", "Storm",
            "Tanner", "Tucker", "Violet", "Wade", "Ward", "Christian", "Sage", "Rocky", "Cash", "Price",
            "Young", "Royal", "Angel", "Precious", "Destiny", "Harmony", "Honey", "Crystal", "Amber", "Olive",
            "Ginger", "Holly", "Misty", "Brandy", "Candy", "Cherry", "Daisy", "Heather", "Hazel", "Poppy",
            "Sierra", "Melody", "Trinity", "Unique", "Serenity", "Liberty", "Justice", "Patience", "Charity",
            "Mercy", "Noble", "Reed", "Forest", "Rusty", "Buck", "Duke", "Earl", "Prince", "Alexa", "Siri",
            "Cortana", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
            "January", "February", "March", "September", "October", "November", "December", "Sydney",
            "Paris", "Florence", "Victoria", "Austin", "Dallas", "Phoenix", "Chelsea", "Madison", "Jordan",
            "Lincoln", "Washington", "Jackson", "Houston", "Orlando", "Denver", "Aurora", "Savannah",
            "Regina", "Adelaide", "Brooklyn", "Camden", "Dakota", "Carolina", "Kent", "Troy", "Bristol", "Devon", "Cleveland", "Mercedes", "Porsche", "Tesla",
            "Harley", "Lexus", "Dell", "Ford", "Chevy", "Stanley", "Bentley", "Sherman", "Else", "Gay",
            "Long", "Bright", "Deep", "Early", "Fair", "Golden", "Happy", "Lucky", "Merry", "Pat", "Sol",
            "Don", "Dot", "Al", "Ed", "Bo", "Van", "Von", "My");

    /** Titles: the capitalised words after one are a name, known or not. */
    private static final Set<String> TITLES = Set.of(
            "Mr", "Mrs", "Ms", "Mx", "Miss", "Dr", "Prof", "Professor", "Sir", "Dame", "Madam", "Mister",
            "Lady", "Lord", "Herr", "Frau", "Mme", "Mlle", "Sr", "Sra");

    /** Phrases (lower case) after which the next capitalised words are a name. */
    private static final Pattern INTRODUCER = Pattern.compile(
            "(?:\\bmy name is|\\bname is|\\bname:|\\bnamed|\\bcall me|\\bi am|\\bi'm|\\bi’m"
                    + "|\\bdear|\\bregards,|\\bsincerely,|\\bcheers,|\\bthanks,|\\bbest,|\\bsigned,?|\\bsigned by"
                    + "|\\bspoke (?:to|with)|\\bask for|\\bcontact person:?|\\bpatient:?|\\bemployee:?)\\s+$");

    /** Last words of place and organisation names: a chain ending in one is not a person. */
    private static final Set<String> PLACE_OR_ORGANISATION = Set.of(
            "Street", "St", "Road", "Rd", "Avenue", "Ave", "Lane", "Drive", "Boulevard", "Way", "Square",
            "Place", "Park", "Station", "Airport", "Bridge", "River", "Lake", "Mountain", "Mount", "Island",
            "Bay", "Beach", "Valley", "County", "City", "Town", "Hill", "Hills", "Heights", "Gardens",
            "Center", "Centre", "Hall", "Library", "Museum", "Church", "Cathedral", "Hotel", "Hospital",
            "Clinic", "School", "College", "University", "Institute", "Academy", "Foundation", "Trust",
            "Society", "Association", "Council", "Committee", "Ministry", "Department", "Agency", "Bank",
            "Inc", "Ltd", "LLC", "GmbH", "AG", "SA", "PLC", "Corp", "Corporation", "Company", "Co", "Group",
            "Holdings", "Partners", "Associates", "Labs", "Laboratories", "Systems", "Technologies",
            "Software", "Solutions", "Services", "Consulting", "Airlines", "Airways", "Motors", "Media",
            "Press", "Times", "Post", "News", "Records", "Studios", "Pictures", "Capital", "Ventures",
            "Energy", "Pharma", "Pharmaceuticals", "Line", "Memorial", "Prize", "Award", "Act", "Law",
            "Theorem", "Effect", "Syndrome", "Disease", "Day", "Cup", "Festival", "Stadium", "Arena",
            "Tower", "Building", "Market", "Mall", "Restaurant", "Cafe", "Café", "Bar", "Pub", "Inn");

    /** Lower-case words that may stand inside a name ("Ludwig van Beethoven"). */
    private static final Set<String> PARTICLES = Set.of(
            "van", "von", "de", "der", "den", "da", "di", "du", "del", "della", "le", "la", "bin", "ibn", "al", "ten", "ter");

    private static final int MAX_NAME_WORDS = 4;

    /** A word: letters with inner apostrophes or hyphens ("O'Brien", "Mary-Jane"), or an initial "J.". */
    private static final Pattern WORD = Pattern.compile("\\p{L}[\\p{L}\\p{M}]*(?:['’-]\\p{L}[\\p{L}\\p{M}]*)*\\.?");

    private final Set<String> firstNames;
    private final Set<String> lastNames;
    private final Set<String> ambiguous;

    /**
     * @param firstNames known first names, capitalised as written ("Anna")
     * @param lastNames  known surnames, capitalised as written
     * @param ambiguous  first names that are also common words or places; they need more evidence
     */
    PersonNameFinder(Set<String> firstNames, Set<String> lastNames, Set<String> ambiguous) {
        this.firstNames = Set.copyOf(Objects.requireNonNull(firstNames, "firstNames"));
        this.lastNames = Set.copyOf(Objects.requireNonNull(lastNames, "lastNames"));
        this.ambiguous = Set.copyOf(Objects.requireNonNull(ambiguous, "ambiguous"));
        if (this.firstNames.isEmpty()) {
            throw new IllegalArgumentException("no first names");
        }
    }

    /** The finder on Datafaker's English lists; read once per class loader. */
    static PersonNameFinder fromDatafaker() {
        return DatafakerLists.FINDER;
    }

    /** Names in {@code text}, in text order, without overlaps. */
    List<Name> find(String text) {
        List<Name> out = new ArrayList<>();
        List<int[]> words = words(text);
        int i = 0;
        while (i < words.size()) {
            if (!isCapitalised(text, words.get(i))) {
                i++;
                continue;
            }
            // A chain: capitalised words (and particles between them) separated by one space.
            int j = i + 1;
            while (j < words.size() && joined(text, words.get(j - 1), words.get(j))
                    && (isCapitalised(text, words.get(j))
                    || (PARTICLES.contains(word(text, words.get(j))) && j + 1 < words.size()
                    && joined(text, words.get(j), words.get(j + 1)) && isCapitalised(text, words.get(j + 1))))) {
                j++;
            }
            name(text, words, i, j, out);
            i = j;
        }
        return out;
    }

    /** Decides on the chain {@code words[from, to)}. */
    private void name(String text, List<int[]> words, int from, int to, List<Name> out) {
        int first = from;
        boolean cued = false;
        // "Dear Mrs Whitfield": a title inside the chain starts the name after it.
        for (int k = from; k < to - 1; k++) {
            if (TITLES.contains(bare(word(text, words.get(k))))) {
                first = k + 1;
                cued = true;
                break;
            }
        }
        if (!cued && first > 0 && TITLES.contains(bare(word(text, words.get(first - 1))))
                && text.substring(words.get(first - 1)[1], words.get(first)[0]).matches("\\.? ")) {
            cued = true;
        } else if (!cued && INTRODUCER.matcher(before(text, words.get(first)[0])).find()) {
            cued = true;
        }
        int end = Math.min(to, first + MAX_NAME_WORDS);
        if (endsInPlaceOrOrganisation(text, words, first, to)) {
            return;
        }
        if (cued) {
            // "Dear Sir", "I am Happy": one word that is a title or a common word is no name.
            String only = bare(word(text, words.get(first)));
            if (to - first > 1 || !(TITLES.contains(only) || COMMON_WORD_FIRST_NAMES.contains(only))) {
                out.add(span(text, words, first, end));
            }
            return;
        }
        for (int k = first; k < to; k++) {
            String w = bare(word(text, words.get(k)));
            if (!isFirstName(w)) {
                continue;
            }
            int stop = Math.min(to, k + MAX_NAME_WORDS);
            if (ambiguous.contains(w) || COMMON_WORD_FIRST_NAMES.contains(w)) {
                boolean surnameFollows = k + 1 < to && lastNames.contains(bare(word(text, words.get(k + 1))));
                boolean followed = k + 1 < to && !isSentenceStart(text, words.get(k)[0]);
                if (!surnameFollows && !followed) {
                    continue;
                }
            }
            out.add(span(text, words, k, stop));
            return;
        }
    }

    private boolean isFirstName(String w) {
        if (firstNames.contains(w)) {
            return true;
        }
        int dash = w.indexOf('-');
        return dash > 0 && firstNames.contains(w.substring(0, dash));
    }

    private static boolean endsInPlaceOrOrganisation(String text, List<int[]> words, int from, int to) {
        for (int k = from + 1; k < to; k++) {
            if (PLACE_OR_ORGANISATION.contains(bare(word(text, words.get(k))))) {
                return true;
            }
        }
        // "Anna Street, 12": the word after the chain may name the place too.
        if (to < words.size() && joined(text, words.get(to - 1), words.get(to))) {
            String next = word(text, words.get(to));
            return PLACE_OR_ORGANISATION.contains(bare(next)) && Character.isUpperCase(next.charAt(0));
        }
        return false;
    }

    /** The span of words {@code [from, to)}, without a possessive "'s" or a trailing dot. */
    private static Name span(String text, List<int[]> words, int from, int to) {
        int start = words.get(from)[0];
        int end = words.get(to - 1)[1];
        String last = text.substring(words.get(to - 1)[0], end);
        if (last.endsWith(".") && last.length() > 2) {
            end--;
        }
        if (text.startsWith("'s", end - 2) || text.startsWith("’s", end - 2)) {
            end -= 2;
        }
        return new Name(start, end);
    }

    private static List<int[]> words(String text) {
        List<int[]> out = new ArrayList<>();
        Matcher m = WORD.matcher(text);
        while (m.find()) {
            out.add(new int[]{m.start(), m.end()});
        }
        return out;
    }

    private static String word(String text, int[] w) {
        return text.substring(w[0], w[1]);
    }

    /** A word without its trailing dot or possessive "'s". */
    private static String bare(String w) {
        String s = w.endsWith(".") ? w.substring(0, w.length() - 1) : w;
        if (s.endsWith("'s") || s.endsWith("’s")) {
            s = s.substring(0, s.length() - 2);
        }
        return s;
    }

    /** Upper-case first letter and a lower-case letter after it ("Anna", "McDonald", not "NASA"); or an initial "J.". */
    private static boolean isCapitalised(String text, int[] w) {
        char c = text.charAt(w[0]);
        if (!Character.isUpperCase(c)) {
            return false;
        }
        int len = w[1] - w[0];
        if (len == 2 && text.charAt(w[1] - 1) == '.') {
            return true;
        }
        for (int i = w[0] + 1; i < w[1]; i++) {
            if (Character.isLowerCase(text.charAt(i))) {
                return true;
            }
        }
        return false;
    }

    /** Two words with exactly one space between them (an initial's dot belongs to the word). */
    private static boolean joined(String text, int[] a, int[] b) {
        if (b[0] != a[1] + 1 || text.charAt(a[1]) != ' ') {
            return false;
        }
        // "... in Paris. Anna said": a sentence's full stop ends the chain; an initial's does not.
        return text.charAt(a[1] - 1) != '.' || a[1] - a[0] == 2 || TITLES.contains(bare(word(text, a)));
    }

    private static boolean isSentenceStart(String text, int at) {
        int i = at - 1;
        while (i >= 0 && (text.charAt(i) == ' ' || text.charAt(i) == '"' || text.charAt(i) == '“'
                || text.charAt(i) == '(')) {
            i--;
        }
        if (i < 0) {
            return true;
        }
        char c = text.charAt(i);
        return c == '.' || c == '!' || c == '?' || c == '\n' || c == ':' || c == ';';
    }

    private static String before(String text, int at) {
        return text.substring(Math.max(0, at - 24), at).toLowerCase(Locale.ROOT);
    }

    /** Reads Datafaker's lists once, on first use. */
    private static final class DatafakerLists {
        static final PersonNameFinder FINDER = load();

        private static PersonNameFinder load() {
            Set<String> first = new HashSet<>();
            Set<String> last = new HashSet<>();
            Set<String> places = new HashSet<>();
            readLists("en/name.yml", key -> switch (key) {
                case "male_first_name", "female_first_name" -> first;
                case "last_name" -> last;
                default -> null;
            });
            readLists("en/address.yml", key -> switch (key) {
                case "country", "state" -> places;
                default -> null;
            });
            if (first.size() < 1000 || last.size() < 100) {
                throw new IllegalStateException("Datafaker's en/name.yml holds " + first.size() + " first and "
                        + last.size() + " last names; is the datafaker jar on the class path?");
            }
            Set<String> ambiguous = new HashSet<>(COMMON_WORD_FIRST_NAMES);
            for (String p : places) {
                if (first.contains(p)) {
                    ambiguous.add(p);
                }
            }
            return new PersonNameFinder(first, last, ambiguous);
        }

        /**
         * The YAML lists under the keys {@code target} maps to a set, read line by line: Datafaker
         * writes each as {@code "      key:"} followed by {@code "      - \"Value\""} lines, and
         * that is all this needs (entries with {@code #{...}} templates are skipped).
         */
        private static void readLists(String resource, java.util.function.Function<String, Set<String>> target) {
            try (InputStream in = PersonNameFinder.class.getClassLoader().getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IllegalStateException(resource + " not on the class path (datafaker jar missing?)");
                }
                BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
                Set<String> into = null;
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    String t = line.strip();
                    if (t.startsWith("- ")) {
                        if (into != null) {
                            String v = t.substring(2).strip();
                            if (v.length() > 1 && v.startsWith("\"") && v.endsWith("\"")) {
                                v = v.substring(1, v.length() - 1);
                            }
                            if (!v.isEmpty() && !v.contains("#{")) {
                                into.add(v);
                            }
                        }
                    } else if (t.endsWith(":")) {
                        into = target.apply(t.substring(0, t.length() - 1));
                    } else {
                        into = null;
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("reading " + resource, e);
            }
        }
    }
}
