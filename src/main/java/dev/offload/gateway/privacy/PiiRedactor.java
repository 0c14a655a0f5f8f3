package dev.offload.gateway.privacy;

import com.google.i18n.phonenumbers.PhoneNumberMatch;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import org.apache.commons.validator.routines.EmailValidator;
import org.apache.commons.validator.routines.IBANValidator;
import org.apache.commons.validator.routines.InetAddressValidator;
import org.apache.commons.validator.routines.checkdigit.LuhnCheckDigit;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Finds personal data in text: e-mail addresses, phone numbers, payment card numbers, IBANs,
 * IPv4/IPv6 addresses, matches of configurable national-ID patterns and, when asked for, person
 * names ({@link PersonNameFinder}: a gazetteer with context rules, not a statistical model). Redaction itself, with
 * numbered placeholders that can be put back, happens in a {@link RedactionSession} from
 * {@link #newSession()}.
 *
 * <p>Each kind has a cheap candidate pattern and, where a checksum or grammar exists, a second
 * check with Apache Commons Validator, so numbers that merely look right are left alone: card
 * numbers must pass the Luhn check (and not start with 0), IBANs the country's length and format
 * and the ISO 7064 mod-97 check digits, IP addresses the full address grammar. Phone numbers
 * have no checksum; they are found with libphonenumber's {@code PhoneNumberUtil.findNumbers} at
 * leniency {@code VALID}, so a number must exist in its region's numbering plan: international
 * ones ({@code +CC}, and {@code 00CC} where 00 is the region's international prefix) in any
 * region, national ones ({@code 020 7946 0958}, {@code 030/1234567}) only in one of the
 * configured {@linkplain Builder#phoneRegions regions}, each of which is one more pass over the
 * text. Rules of the gateway sit on top: a number without {@code +} must be written with a
 * separator (a bare run of digits is more often an id), dots may only be its one separator, and
 * it may not touch a letter, digit, {@code #}, or a dot, dash or slash followed by a digit. When
 * findNumbers drops a run because another number or a date touches it ("020 7946 0958 2019"),
 * the run's digit groups are searched on their own. When two findings overlap, the more
 * specific kind wins in the order e-mail, IBAN, card, national ID, IP, phone, person.
 *
 * <p>E-mail domains need not end in a public suffix ({@code ops@plant.internal} is personal
 * data too): Commons Validator checks the local part and known domains, and a syntactically
 * valid host name with an alphabetic last label is accepted as well.
 *
 * <p>Known limit: digit groups of two numbers written back to back with only spaces between
 * them ("+44 20 7946 0958 4111 1111 1111 1112") are ambiguous; a card-shaped window across both
 * may pass Luhn (one in ten does) and is then redacted as a card, taking the overlapping part of
 * the phone number with it and leaving the rest of it ("+44 20") in clear. Restoration stays
 * exact. Any word or punctuation between the numbers removes the ambiguity.
 *
 * <p>Immutable and thread-safe: one instance serves every request.
 */
public final class PiiRedactor {
    /** National-ID patterns shipped with the gateway, by name. */
    public static final Map<String, String> BUILT_IN_NATIONAL_IDS = Map.of(
            // US Social Security Number as written: area 001-899 except 666, group 01-99, serial 0001-9999.
            "us-ssn", "(?<![\\p{L}\\p{N}_-])(?!000|666|9\\d\\d)\\d{3}-(?!00)\\d{2}-(?!0000)\\d{4}(?![\\p{L}\\p{N}_]|-\\d)");

    /** One finding: the kind, its span {@code [start, end)} in the text, and the text itself. */
    public record Match(PiiType type, int start, int end, String value) {
    }

    private static final String W = "\\p{L}\\p{N}_";

    private static final Pattern EMAIL = Pattern.compile(
            "(?<![\\p{L}\\p{N}._%+'-])[\\p{L}\\p{N}_%+-][\\p{L}\\p{N}._%+'-]*@(?:\\[[0-9A-Fa-f:.]+\\]"
                    + "|[\\p{L}\\p{N}](?:[\\p{L}\\p{N}-]*[\\p{L}\\p{N}])?(?:\\.[\\p{L}\\p{N}](?:[\\p{L}\\p{N}-]*[\\p{L}\\p{N}])?)+)");
    private static final Pattern HOST_NAME = Pattern.compile(
            "(?:[\\p{L}\\p{N}](?:[\\p{L}\\p{N}-]{0,61}[\\p{L}\\p{N}])?\\.)+\\p{L}{2,63}");

    private static final int MIN_IBAN_LENGTH = 15;
    private static final Pattern IBAN_START = Pattern.compile("(?<![" + W + "])[A-Za-z]{2}\\d{2}");

    private static final Pattern CARD = Pattern.compile("(?<![" + W + "+\\-.])"
            + "(?:\\d{13,19}|\\d{4}([ -])\\d{4}\\1\\d{4}\\1\\d{1,7}|\\d{4}([ -])\\d{6}\\2\\d{4,5})"
            + "(?![" + W + "]|[.,]\\d)");

    private static final Pattern IPV4 = Pattern.compile(
            "(?<![" + W + ".])\\d{1,3}(?:\\.\\d{1,3}){3}(?![" + W + "]|\\.\\d)");
    private static final Pattern IPV6 = Pattern.compile(
            "(?<![" + W + ":.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:\\d{1,3}(?:\\.\\d{1,3}){3}|[0-9A-Fa-f]{1,4})?"
                    + "(?:%[\\p{L}\\p{N}_-]+)?(?![" + W + ":])");

    private static final PhoneNumberUtil PHONE_UTIL = PhoneNumberUtil.getInstance();
    /**
     * Digit groups joined by single separators, tried on their own where findNumbers found nothing
     * in them (see {@link #digitGroupRuns}).
     */
    private static final Pattern DIGIT_GROUPS = Pattern.compile(
            "(?<![" + W + "+#.\\-/])\\+?\\(?\\d+\\)?(?:[ .\\-/]\\(?\\d+\\)?)+");

    /** A placeholder as the session writes it; text that already looks like one is protected. */
    static final Pattern PLACEHOLDER = Pattern.compile(
            "<(EMAIL|PHONE|CARD|IBAN|IP|NATIONAL_ID|PERSON)_[1-9]\\d{0,8}>");

    private static final EmailValidator EMAIL_VALIDATOR = new PrivateDomainEmailValidator();
    private static final InetAddressValidator IP_VALIDATOR = InetAddressValidator.getInstance();
    private static final IBANValidator IBAN_VALIDATOR = IBANValidator.getInstance();

    /** Overlap resolution order: lower wins. Placeholder-shaped literals come first. */
    private static final int LITERAL_RANK = 0;

    private static int rank(PiiType t) {
        return switch (t) {
            case EMAIL -> 1;
            case IBAN -> 2;
            case CARD -> 3;
            case NATIONAL_ID -> 4;
            case IP -> 5;
            case PHONE -> 6;
            case PERSON -> 7;
        };
    }

    /** What a span found while scanning is. */
    enum Kind {
        /** Personal data: replaced and counted. */
        PII,
        /** Text that merely looks like a placeholder: replaced (so it comes back as written), not counted. */
        LITERAL,
        /**
         * Shaped like the kind but failing its check (an IBAN with wrong check digits): left as it
         * is, and claims its characters so no weaker kind matches a fragment of it.
         */
        REJECTED
    }

    /** A finding while scanning. */
    record Span(PiiType type, int start, int end, Kind kind) {
        int rank() {
            return kind == Kind.LITERAL ? LITERAL_RANK : PiiRedactor.rank(type);
        }
    }

    private final Set<PiiType> types;
    private final Map<String, Pattern> nationalIds;
    private final List<String> phoneRegions;
    /** Null unless {@link PiiType#PERSON} is on. */
    private final PersonNameFinder names;

    private PiiRedactor(Builder b) {
        this.types = Collections.unmodifiableSet(EnumSet.copyOf(b.types));
        this.nationalIds = Collections.unmodifiableMap(new LinkedHashMap<>(b.nationalIds));
        this.phoneRegions = List.copyOf(b.phoneRegions);
        this.names = types.contains(PiiType.PERSON) ? PersonNameFinder.fromDatafaker() : null;
    }

    /** The {@linkplain PiiType#defaults() default kinds} on, national IDs from {@link #BUILT_IN_NATIONAL_IDS}. */
    public static PiiRedactor withDefaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A fresh redaction session: its own placeholder numbering, counts and restore map. */
    public RedactionSession newSession() {
        return new RedactionSession(this);
    }

    /** Kinds this redactor looks for. */
    public Set<PiiType> types() {
        return types;
    }

    /** National-ID pattern names in use. */
    public Set<String> nationalIdNames() {
        return nationalIds.keySet();
    }

    /** Regions (ISO 3166-1 alpha-2) whose national phone numbers are found, in scan order. */
    public List<String> phoneRegions() {
        return phoneRegions;
    }

    /** The personal data in {@code text}, in text order, without overlaps. */
    public List<Match> detect(String text) {
        List<Match> out = new ArrayList<>();
        for (Span s : scan(text)) {
            if (s.kind() == Kind.PII) {
                out.add(new Match(s.type(), s.start(), s.end(), text.substring(s.start(), s.end())));
            }
        }
        return out;
    }

    /** Findings plus placeholder-shaped literals, in text order, without overlaps. */
    List<Span> scan(String text) {
        List<Span> found = new ArrayList<>();
        if (text.indexOf('<') >= 0) {
            Matcher m = PLACEHOLDER.matcher(text);
            while (m.find()) {
                found.add(new Span(PiiType.valueOf(m.group(1)), m.start(), m.end(), Kind.LITERAL));
            }
        }
        if (types.contains(PiiType.EMAIL) && text.indexOf('@') >= 0) {
            emails(text, found);
        }
        if (types.contains(PiiType.IBAN)) {
            ibans(text, found);
        }
        if (types.contains(PiiType.CARD)) {
            cards(text, found);
        }
        if (types.contains(PiiType.NATIONAL_ID)) {
            for (Pattern p : nationalIds.values()) {
                Matcher m = p.matcher(text);
                while (m.find()) {
                    if (m.end() > m.start()) {
                        found.add(new Span(PiiType.NATIONAL_ID, m.start(), m.end(), Kind.PII));
                    }
                }
            }
        }
        if (types.contains(PiiType.IP)) {
            ips(text, found);
        }
        if (types.contains(PiiType.PHONE)) {
            phones(text, phoneRegions, found);
        }
        if (names != null) {
            for (PersonNameFinder.Name n : names.find(text)) {
                found.add(new Span(PiiType.PERSON, n.start(), n.end(), Kind.PII));
            }
        }
        return resolveOverlaps(found);
    }

    private static List<Span> resolveOverlaps(List<Span> found) {
        if (found.size() < 2) {
            return found;
        }
        // Valid findings before rejected look-alikes of the same rank.
        found.sort(Comparator.comparingInt(Span::rank).thenComparing(Span::kind).thenComparingInt(Span::start)
                .thenComparingInt(s -> -(s.end() - s.start())));
        TreeMap<Integer, Span> kept = new TreeMap<>();
        for (Span s : found) {
            Map.Entry<Integer, Span> before = kept.floorEntry(s.start());
            if (before != null && before.getValue().end() > s.start()) {
                continue;
            }
            Map.Entry<Integer, Span> after = kept.ceilingEntry(s.start());
            if (after != null && after.getKey() < s.end()) {
                continue;
            }
            kept.put(s.start(), s);
        }
        return new ArrayList<>(kept.values());
    }

    /** Where an accepted candidate ends, or -1 to reject it. */
    @FunctionalInterface
    private interface Check {
        int end(Matcher m);
    }

    /**
     * Runs {@code p} over the text and keeps the candidates {@code check} accepts. A rejected
     * candidate must not hide a real finding that starts inside it ("01/02/2024 4455 4122 5793
     * 4918": the date's year starts a card-shaped run that fails Luhn), so the search goes on one
     * character after a rejected candidate's start, not after its end.
     */
    private static void candidates(Pattern p, String text, PiiType type, List<Span> out, Check check) {
        Matcher m = p.matcher(text);
        int from = 0;
        while (from < text.length() && m.find(from)) {
            int end = check.end(m);
            if (end > m.start()) {
                out.add(new Span(type, m.start(), end, Kind.PII));
                from = end;
            } else {
                from = m.start() + 1;
            }
        }
    }

    private static void emails(String text, List<Span> out) {
        candidates(EMAIL, text, PiiType.EMAIL, out, m -> EMAIL_VALIDATOR.isValid(m.group()) ? m.end() : -1);
    }

    /**
     * IBANs are written compact or in groups of four; the country code fixes the length, so the
     * scan takes exactly that many characters (skipping single spaces or dashes) and no more.
     */
    private static void ibans(String text, List<Span> out) {
        Matcher m = IBAN_START.matcher(text);
        while (m.find()) {
            String country = text.substring(m.start(), m.start() + 2).toUpperCase(Locale.ROOT);
            IBANValidator.Validator v = IBAN_VALIDATOR.getValidator(country);
            if (v == null) {
                continue;
            }
            int length = v.getIbanLength();
            StringBuilder compact = new StringBuilder(length).append(text, m.start(), m.end());
            int i = m.end();
            while (compact.length() < length && i < text.length()) {
                char c = text.charAt(i);
                if (isAsciiAlnum(c)) {
                    compact.append(c);
                    i++;
                } else if ((c == ' ' || c == '-') && i + 1 < text.length() && isAsciiAlnum(text.charAt(i + 1))) {
                    i++;
                } else {
                    break;
                }
            }
            boolean whole = i == text.length() || !isWordChar(text.charAt(i));
            if (compact.length() == length && whole && IBAN_VALIDATOR.isValid(compact.toString().toUpperCase(Locale.ROOT))) {
                out.add(new Span(PiiType.IBAN, m.start(), i, Kind.PII));
            } else if (compact.length() >= MIN_IBAN_LENGTH) {
                // A mistyped or made-up IBAN: its digit groups are not a card or a phone number either.
                out.add(new Span(PiiType.IBAN, m.start(), i, Kind.REJECTED));
            }
        }
    }

    private static void cards(String text, List<Span> out) {
        candidates(CARD, text, PiiType.CARD, out, m -> {
            String digits = digitsOf(m.group());
            // No payment card number starts with 0 (ISO/IEC 7812 major industry identifier 0 is not for cards).
            return digits.charAt(0) != '0' && LuhnCheckDigit.LUHN_CHECK_DIGIT.isValid(digits) ? m.end() : -1;
        });
    }

    private static void ips(String text, List<Span> out) {
        if (text.indexOf('.') >= 0) {
            candidates(IPV4, text, PiiType.IP, out, m -> IP_VALIDATOR.isValidInet4Address(m.group()) ? m.end() : -1);
        }
        if (text.indexOf(':') >= 0) {
            candidates(IPV6, text, PiiType.IP, out, m -> {
                String candidate = m.group();
                if (IP_VALIDATOR.isValidInet6Address(candidate)) {
                    return m.end();
                }
                // "at fe80::1: the ..." — a colon of the sentence may stick to the address.
                if (candidate.endsWith(":") && !candidate.endsWith("::")
                        && IP_VALIDATOR.isValidInet6Address(candidate.substring(0, candidate.length() - 1))) {
                    return m.end() - 1;
                }
                return -1;
            });
        }
    }

    private static void phones(String text, List<String> regions, List<Span> out) {
        if (countDigits(text, 0, text.length()) < 7) {
            return;
        }
        List<Span> phones = new ArrayList<>();
        for (String region : regions) {
            for (PhoneNumberMatch m : PHONE_UTIL.findNumbers(text, region, PhoneNumberUtil.Leniency.VALID, Long.MAX_VALUE)) {
                int start = withoutLoneParenthesis(text, m.start(), m.end());
                if (isWrittenAsPhone(text, start, m.end())) {
                    phones.add(new Span(PiiType.PHONE, start, m.end(), Kind.PII));
                }
            }
        }
        digitGroupRuns(text, regions, phones);
        out.addAll(phones);
    }

    /**
     * findNumbers takes digit groups joined by separators as one candidate and drops all of it when
     * that is no number: when it looks like a date as a whole ("+49 30 6581150. 01/02/2024"), or
     * when another number precedes or follows ("15.01.2024 (020 7946 8095", "020 7946 0958 2019",
     * where it retries only some of the parts). So each run of digit groups joined by single
     * separators that holds no finding yet is searched group by group: from each group on, the
     * longest stretch with at most as many digits as a phone number has (12, or 15 after
     * {@code +}) that findNumbers accepts from its first character is taken, and the search goes
     * on after it.
     */
    private static void digitGroupRuns(String text, List<String> regions, List<Span> phones) {
        Matcher m = DIGIT_GROUPS.matcher(text);
        while (m.find()) {
            if (countDigits(text, m.start(), m.end()) < 7 || overlapsAny(phones, m.start(), m.end())) {
                continue;
            }
            int start = m.start();
            while (start >= 0 && start < m.end()) {
                int max = text.charAt(start) == '+' ? 15 : 12;
                int found = 0;
                for (int cut = m.end(); cut > start; cut = lastSeparator(text, start, cut)) {
                    int digits = countDigits(text, start, cut);
                    if (digits < 7) {
                        break;
                    }
                    int end = digits <= max ? start + numberAtStart(text.substring(start, cut), regions) : start;
                    if (end > start && isWrittenAsPhone(text, withoutLoneParenthesis(text, start, end), end)) {
                        phones.add(new Span(PiiType.PHONE, withoutLoneParenthesis(text, start, end), end, Kind.PII));
                        found = end;
                        break;
                    }
                }
                start = nextGroup(text, Math.max(found, start), m.end());
            }
        }
    }

    /** "(+44 20 7946 0958)": a match may keep an opening parenthesis whose partner it leaves out. */
    private static int withoutLoneParenthesis(String text, int start, int end) {
        if (text.charAt(start) != '(') {
            return start;
        }
        int close = text.indexOf(')', start);
        return close < 0 || close >= end ? start + 1 : start;
    }

    /** Start of the first digit group after the separator that follows {@code from}, or -1. */
    private static int nextGroup(String text, int from, int end) {
        int i = from;
        while (i < end && !isGroupSeparator(text.charAt(i))) {
            i++;
        }
        while (i < end && isGroupSeparator(text.charAt(i))) {
            i++;
        }
        return i < end ? i : -1;
    }

    private static boolean isGroupSeparator(char c) {
        return c == ' ' || c == '.' || c == '-' || c == '/';
    }

    /** Length of the number {@code candidate} starts with in one of the regions, or 0. */
    private static int numberAtStart(String candidate, List<String> regions) {
        for (String region : regions) {
            for (PhoneNumberMatch m : PHONE_UTIL.findNumbers(candidate, region, PhoneNumberUtil.Leniency.VALID, Long.MAX_VALUE)) {
                if (m.start() == 0) {
                    return m.end();
                }
            }
        }
        return 0;
    }

    private static boolean overlapsAny(List<Span> spans, int start, int end) {
        for (Span s : spans) {
            if (s.start() < end && start < s.end()) {
                return true;
            }
        }
        return false;
    }

    /**
     * The gateway's rules on top of libphonenumber's: no letter, digit, {@code #}, {@code +} or
     * number punctuation directly before ("ticket #4155550132"), nothing word-like or a further
     * digit group directly after, dots only as the one separator ("415.555.0132"; "0.25. 15.01.2024"
     * and "0.25 / 15.01.2024" are a number and a date, not French phone numbers), and without
     * {@code +} at least one separator.
     */
    private static boolean isWrittenAsPhone(String text, int start, int end) {
        if (start > 0) {
            char before = text.charAt(start - 1);
            if (isWordChar(before) || before == '#' || before == '+' || before == '.' || before == '-' || before == '/') {
                return false;
            }
        }
        if (end < text.length()) {
            char after = text.charAt(end);
            if (isWordChar(after)) {
                return false;
            }
            if ((after == '.' || after == '-' || after == '/') && end + 1 < text.length()
                    && Character.isDigit(text.charAt(end + 1))) {
                return false;
            }
        }
        boolean dot = false;
        boolean other = false;
        for (int i = start; i < end; i++) {
            char c = text.charAt(i);
            dot |= c == '.';
            other |= c == ' ' || c == '-' || c == '/' || c == '(' || c == ')';
        }
        if (dot && other) {
            return false;
        }
        if (text.charAt(start) == '+') {
            return true;
        }
        for (int i = start; i < end; i++) {
            char c = text.charAt(i);
            if (c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')') {
                return true;
            }
        }
        return false;
    }

    private static int lastSeparator(String text, int start, int end) {
        for (int i = end - 1; i > start; i--) {
            char c = text.charAt(i);
            if (c == ' ' || c == '-' || c == '.' || c == '/') {
                return i;
            }
        }
        return -1;
    }

    private static int countDigits(String text, int start, int end) {
        int n = 0;
        for (int i = start; i < end; i++) {
            char c = text.charAt(i);
            if (c >= '0' && c <= '9') {
                n++;
            }
        }
        return n;
    }

    private static String digitsOf(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= '0' && c <= '9') {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static boolean isAsciiAlnum(char c) {
        return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    }

    private static boolean isWordChar(char c) {
        return Character.isLetterOrDigit(c) || c == '_';
    }

    /**
     * Commons Validator's e-mail check with one change: a domain that is not a known public
     * suffix but is a well-formed host name still counts, because addresses on internal domains
     * identify people just as well.
     */
    private static final class PrivateDomainEmailValidator extends EmailValidator {
        private static final long serialVersionUID = 1L;

        PrivateDomainEmailValidator() {
            super(true, true);
        }

        @Override
        protected boolean isValidDomain(String domain) {
            return super.isValidDomain(domain) || HOST_NAME.matcher(domain).matches();
        }
    }

    /** Validated settings of a {@link PiiRedactor}. */
    public static final class Builder {
        /** Regions whose national phone numbers are found unless {@link #phoneRegions} says otherwise. */
        public static final List<String> DEFAULT_PHONE_REGIONS = List.of("US", "GB", "DE", "FR");

        private final Set<PiiType> types = EnumSet.copyOf(PiiType.defaults());
        private final Map<String, Pattern> nationalIds = new LinkedHashMap<>();
        private final List<String> phoneRegions = new ArrayList<>(DEFAULT_PHONE_REGIONS);

        private Builder() {
            BUILT_IN_NATIONAL_IDS.forEach((name, regex) -> nationalIds.put(name, Pattern.compile(regex)));
        }

        /** Kinds to look for (default: {@link PiiType#defaults()}, all but {@link PiiType#PERSON}). */
        public Builder types(Set<PiiType> kinds) {
            Objects.requireNonNull(kinds, "types");
            types.clear();
            types.addAll(kinds);
            return this;
        }

        /** Drops every national-ID pattern, the built-in ones included. */
        public Builder clearNationalIds() {
            nationalIds.clear();
            return this;
        }

        /**
         * Adds (or replaces, by name) a national-ID pattern: a Java regular expression whose
         * whole match becomes {@code <NATIONAL_ID_n>}. Anchor it with look-arounds so it does not
         * match inside longer numbers.
         *
         * @throws IllegalArgumentException when the name is blank, or the regex does not compile
         *                                  or can match the empty string
         */
        public Builder nationalId(String name, String regex) {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("national-ID pattern name is blank");
            }
            if (regex == null || regex.isBlank()) {
                throw new IllegalArgumentException("national-ID pattern '" + name + "' is empty");
            }
            Pattern p;
            try {
                p = Pattern.compile(regex);
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException("national-ID pattern '" + name + "' is not a valid regex: "
                        + e.getDescription(), e);
            }
            if (p.matcher("").matches()) {
                throw new IllegalArgumentException("national-ID pattern '" + name + "' matches the empty string");
            }
            nationalIds.put(name, p);
            return this;
        }

        /**
         * Regions (ISO 3166-1 alpha-2, any case) whose national phone numbers are found; numbers
         * written with {@code +} are found whatever the list. Each region is one more pass of
         * findNumbers over the text.
         *
         * @throws IllegalArgumentException when the list is empty or names a region libphonenumber
         *                                  does not know
         */
        public Builder phoneRegions(List<String> regions) {
            Objects.requireNonNull(regions, "phoneRegions");
            List<String> checked = new ArrayList<>();
            for (String r : regions) {
                String region = r == null ? "" : r.strip().toUpperCase(Locale.ROOT);
                if (!PHONE_UTIL.getSupportedRegions().contains(region)) {
                    throw new IllegalArgumentException("phone region '" + r + "' is not an ISO 3166-1 alpha-2 region "
                            + "libphonenumber knows");
                }
                if (!checked.contains(region)) {
                    checked.add(region);
                }
            }
            if (checked.isEmpty()) {
                throw new IllegalArgumentException("at least one phone region must be given");
            }
            phoneRegions.clear();
            phoneRegions.addAll(checked);
            return this;
        }

        public PiiRedactor build() {
            if (types.isEmpty()) {
                throw new IllegalArgumentException("at least one PII type must be enabled");
            }
            return new PiiRedactor(this);
        }
    }
}
