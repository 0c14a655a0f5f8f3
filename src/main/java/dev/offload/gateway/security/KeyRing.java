package dev.offload.gateway.security;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The API keys a gateway accepts, parsed from a keys file: one key per line,
 * {@code <sha256-hex-of-key> <tenant> <device|admin>}; {@code #} starts a comment, blank lines
 * are ignored. Only hashes are held, never keys. A malformed line is skipped and reported by
 * its line number and what is wrong with it, never by its content (an operator may have pasted
 * a clear key by mistake).
 *
 * <p>Immutable; any thread. Lookup is by the hash of the presented key, which is not secret,
 * and the stored hash is compared again with {@link MessageDigest#isEqual} (constant time).
 */
public final class KeyRing {
    /** Tenants are path-safe names: they end up in metric tags, logs and index keys. */
    private static final Pattern TENANT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-fA-F]{64}");

    public static final KeyRing EMPTY = new KeyRing(Map.of(), List.of());

    /** A line that was skipped, by number (from 1) and reason. */
    public record Problem(int line, String reason) {
        @Override
        public String toString() {
            return "line " + line + ": " + reason;
        }
    }

    private record Entry(byte[] hash, Caller caller) {
    }

    private final Map<String, Entry> byHash;
    private final List<Problem> problems;

    private KeyRing(Map<String, Entry> byHash, List<Problem> problems) {
        this.byHash = byHash;
        this.problems = problems;
    }

    /** Parses the lines of a keys file; never fails, bad lines end up in {@link #problems()}. */
    public static KeyRing parse(List<String> lines) {
        Map<String, Entry> byHash = new HashMap<>();
        Map<String, Integer> firstLine = new HashMap<>();
        List<Problem> problems = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            int lineNo = i + 1;
            String line = lines.get(i);
            int comment = line.indexOf('#');
            String content = (comment >= 0 ? line.substring(0, comment) : line).strip();
            if (content.isEmpty()) {
                continue;
            }
            String[] fields = content.split("\\s+");
            if (fields.length != 3) {
                problems.add(new Problem(lineNo, "expected 3 fields (sha256-hex tenant role), found " + fields.length));
                continue;
            }
            if (!SHA256_HEX.matcher(fields[0]).matches()) {
                problems.add(new Problem(lineNo, "first field is not 64 hex digits (the SHA-256 of the key, not the key)"));
                continue;
            }
            if (!TENANT.matcher(fields[1]).matches()) {
                problems.add(new Problem(lineNo, "tenant must be 1-64 letters, digits, '.', '_' or '-'"));
                continue;
            }
            Optional<Role> role = Role.parse(fields[2]);
            if (role.isEmpty()) {
                problems.add(new Problem(lineNo, "role must be device or admin"));
                continue;
            }
            String hex = fields[0].toLowerCase(java.util.Locale.ROOT);
            Integer earlier = firstLine.putIfAbsent(hex, lineNo);
            if (earlier != null) {
                problems.add(new Problem(lineNo, "the same key hash is already on line " + earlier));
                continue;
            }
            byHash.put(hex, new Entry(HexFormat.of().parseHex(hex),
                    new Caller(fields[1], role.get(), hex.substring(0, 12))));
        }
        return new KeyRing(Map.copyOf(byHash), List.copyOf(problems));
    }

    /** The caller a presented key identifies, if the ring holds its hash. */
    public Optional<Caller> lookup(String presentedKey) {
        return lookup(sha256(presentedKey));
    }

    /** The caller whose key has this SHA-256, if the ring holds it. */
    public Optional<Caller> lookup(byte[] hash) {
        Entry e = byHash.get(HexFormat.of().formatHex(hash));
        if (e == null || !MessageDigest.isEqual(e.hash(), hash)) {
            return Optional.empty();
        }
        return Optional.of(e.caller());
    }

    /** Lower-case hex SHA-256 of a key's UTF-8 bytes: the form a keys file holds. */
    public static String sha256Hex(String key) {
        return HexFormat.of().formatHex(sha256(key));
    }

    static byte[] sha256(String key) {
        return sha256(key.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    public int size() {
        return byHash.size();
    }

    /** Hashes of every key held (the rate limiter keeps buckets only for these). */
    public Set<String> hashes() {
        return Collections.unmodifiableSet(byHash.keySet());
    }

    /** Tenants that hold at least one key, sorted. */
    public Set<String> tenants() {
        Set<String> out = new TreeSet<>();
        byHash.values().forEach(e -> out.add(e.caller().tenant()));
        return Collections.unmodifiableSet(out);
    }

    /** Lines that were skipped, in file order. */
    public List<Problem> problems() {
        return problems;
    }
}
