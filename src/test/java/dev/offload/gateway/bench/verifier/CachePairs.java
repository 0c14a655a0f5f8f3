package dev.offload.gateway.bench.verifier;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * GPTCache's paraphrase pairs grouped by origin, and the one split every verifier program uses.
 * The split is a function of the origin's text alone (SHA-256), so it does not depend on file
 * order, on a seed or on which program asks:
 *
 * <ul>
 *   <li>first byte even: {@link Half#TRAIN} — the verifier is trained and its threshold chosen
 *       on these; odd: {@link Half#HELD_OUT} — never used for training or tuning;</li>
 *   <li>second byte divisible by 4 (about a quarter of each half): the origin is
 *       <em>withheld</em>, never cached; its paraphrase is asked as a question whose duplicate
 *       is not in the cache (every hit on it is false), and the origin itself serves as an
 *       unrelated question.</li>
 * </ul>
 */
public final class CachePairs {
    public enum Half { TRAIN, HELD_OUT }

    /** One distinct origin with its paraphrases (35 origins occur more than once in the file). */
    public record Group(int id, String origin, List<String> paraphrases, Half half, boolean withheld) {
    }

    private final List<Group> groups;

    private CachePairs(List<Group> groups) {
        this.groups = groups;
    }

    public static CachePairs read(Path dataset) throws IOException {
        JsonNode pairs = new ObjectMapper().readTree(Files.readAllBytes(dataset));
        Map<String, List<String>> byOrigin = new LinkedHashMap<>();
        for (JsonNode p : pairs) {
            byOrigin.computeIfAbsent(p.get("origin").asText(), o -> new ArrayList<>()).add(p.get("similar").asText());
        }
        List<Group> groups = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : byOrigin.entrySet()) {
            byte[] h = sha256(e.getKey());
            groups.add(new Group(groups.size(), e.getKey(), List.copyOf(e.getValue()),
                    (h[0] & 1) == 0 ? Half.TRAIN : Half.HELD_OUT, (h[1] & 0xff) % 4 == 0));
        }
        return new CachePairs(List.copyOf(groups));
    }

    public List<Group> groups() {
        return groups;
    }

    public List<Group> half(Half half) {
        return groups.stream().filter(g -> g.half() == half).toList();
    }

    static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
