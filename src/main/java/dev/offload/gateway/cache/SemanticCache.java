package dev.offload.gateway.cache;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Answers repeated questions without a model call. Entries live in partitions of one tenant and
 * one {@link CacheScope}; a lookup only ever sees its own partition, so tenants never share
 * answers and neither do queries with different filters, sensitivity, tier or history.
 *
 * <p>A lookup first tries the normalised query text (exact fast path, no vector needed), then
 * compares the query embedding with every entry of the partition (brute force; partitions are
 * bounded by {@code maxEntries}). The {@code candidates} nearest by cosine are re-scored as
 * {@code cosine + trigramWeight × character-trigram overlap + lexicalWeight × word overlap}
 * ({@link LexicalOverlap}); the best one answers if its cosine reaches {@code similarityThreshold}
 * and no candidate with a different answer scores within {@code ambiguityMargin} of it (then the
 * query is ambiguous between two cached answers, and guessing would hand one device another's
 * answer). The threshold gates the winner only: ranking and the ambiguity test do not depend on
 * it. Threshold, weights and margin defaults were chosen by measurement (see {@code cache.md}).
 * With a {@link DuplicateVerifier}, the winner must then pass it: the verifier weighs the cosine,
 * surface overlap, negation, numbers, units, names, model tokens, question type and opposite
 * actions ({@link PairFeatures}), and, when the verifier uses it, the cosine under a second
 * embedding model ({@link Verification#secondEmbedder()}: run only when a candidate reaches
 * verification, on the asked question and, once, on the stored one); a failed check is a miss (counted as
 * {@code unverified}).
 *
 * <p>Entries expire after {@code ttl} (by the injected clock) and are evicted least recently used
 * first when the cache would exceed {@code maxEntries} or {@code maxBytes} (an estimate of heap
 * use). Each entry records the documents of its sources; {@link #invalidateDocument} drops every
 * entry built from a document. An answer computed while its document was being changed must not
 * be stored afterwards, so {@link #put} takes a {@link #ticket()} drawn before retrieval and
 * refuses the entry if any of its documents was invalidated since.
 *
 * <p>Thread-safe; any thread may call any method. Lookups scan an immutable snapshot of the
 * partition without locking (embedding and the scan are CPU work: call from a worker thread,
 * never from an event loop). Writes (put, invalidation, eviction, recency updates on a hit) take
 * one short lock; the scan is never done under it.
 */
public final class SemanticCache {
    /**
     * Validated settings.
     *
     * @param enabled             when false, lookups miss and puts store nothing
     * @param similarityThreshold minimum cosine between the query and the cached query, in [0, 1]
     * @param lexicalWeight       weight of word-stem overlap in re-scoring candidates, ≥ 0 (0: not used)
     * @param trigramWeight       weight of character-trigram overlap in re-scoring candidates, ≥ 0
     *                            (0: not used; both weights 0: cosine only)
     * @param ambiguityMargin     minimum lead of the best candidate over one with another answer, ≥ 0
     * @param candidates          nearest entries (by cosine) that are re-scored, ≥ 1
     * @param ttl                 how long an entry may answer, positive
     * @param maxEntries          entries over all tenants, ≥ 1
     * @param maxBytes            estimated bytes over all tenants, ≥ 1
     */
    public record Settings(boolean enabled, double similarityThreshold, double lexicalWeight, double trigramWeight,
                           double ambiguityMargin, int candidates, Duration ttl, int maxEntries, long maxBytes) {
        public Settings {
            if (!(similarityThreshold >= 0 && similarityThreshold <= 1)) {
                throw new IllegalArgumentException("similarity threshold must be in [0, 1]: " + similarityThreshold);
            }
            if (!(lexicalWeight >= 0) || !(trigramWeight >= 0) || !(ambiguityMargin >= 0)) {
                throw new IllegalArgumentException("lexical weight, trigram weight and ambiguity margin must be ≥ 0");
            }
            if (candidates < 1 || maxEntries < 1 || maxBytes < 1) {
                throw new IllegalArgumentException("candidates, max entries and max bytes must be ≥ 1");
            }
            Objects.requireNonNull(ttl, "ttl");
            if (ttl.isNegative() || ttl.isZero()) {
                throw new IllegalArgumentException("ttl must be positive: " + ttl);
            }
        }
    }

    /**
     * How semantic hits are checked.
     *
     * @param verifier       the check every semantic hit must pass ({@link DuplicateVerifier}); null for none
     * @param secondEmbedder the verifier's second embedding model (text → vector), when it weighs
     *                       {@code second_cosine}: run on the asked question when a candidate reaches
     *                       verification, and on that candidate's stored question the first time it
     *                       does (kept with the entry); null otherwise (then such a
     *                       verifier's checks are NaN, so misses)
     * @param candidates     how many of the ranked candidates (cosine over the threshold) are verified,
     *                       ≥ 1; the accepted one with the highest probability answers
     */
    public record Verification(DuplicateVerifier verifier, Function<String, float[]> secondEmbedder, int candidates) {
        public static final Verification NONE = new Verification(null, null, 1);

        public Verification {
            if (candidates < 1) {
                throw new IllegalArgumentException("verified candidates must be ≥ 1: " + candidates);
            }
        }

        /** The verifier alone, on the nearest candidate. */
        public static Verification of(DuplicateVerifier verifier) {
            return new Verification(verifier, null, 1);
        }

        boolean needsSecondVector() {
            return verifier != null && verifier.secondModel().isPresent() && secondEmbedder != null;
        }
    }

    private record PartitionKey(String tenant, CacheScope scope) {
    }

    private record TenantDocument(String tenant, String documentId) {
    }

    private static final class Entry {
        final PartitionKey key;
        final String query;
        final String normalized;
        final float[] vector;
        final int[] terms;
        final long[] trigrams;
        /** What the stored question names in particular; a candidate must name the same. */
        final QueryIdentifiers identifiers;
        /** The stored question's side of the verifier's features; null without a verifier. */
        final PairFeatures.Profile profile;
        /**
         * The stored question under the verifier's second embedding model (unit), computed the
         * first time the entry reaches verification (on that lookup's worker thread, not on the
         * answer's path or a replica's apply); null until then, or when not used.
         */
        volatile float[] secondVector;
        final String answer;
        final List<CachedSource> sources;
        final long storedAt;
        final long bytes;
        volatile boolean live = true;

        Entry(PartitionKey key, String query, String normalized, float[] vector, int[] terms, long[] trigrams,
              PairFeatures.Profile profile, boolean secondVectorLater, String answer, List<CachedSource> sources, long storedAt) {
            this.key = key;
            this.query = query;
            this.normalized = normalized;
            this.vector = vector;
            this.terms = terms;
            this.trigrams = trigrams;
            this.identifiers = QueryIdentifiers.of(query);
            this.profile = profile;
            this.answer = answer;
            this.sources = sources;
            this.storedAt = storedAt;
            this.bytes = estimateBytes(secondVectorLater);
        }

        /**
         * Object headers, arrays and UTF-16 strings, plus the scope as if each entry had its own
         * copy; an estimate, not a measurement.
         */
        private long estimateBytes(boolean secondVectorLater) {
            long n = key.scope().estimatedBytes() + 160 + 16 + 4L * vector.length + 16 + 4L * terms.length
                    + 16 + 8L * trigrams.length
                    + 2L * (query.length() + normalized.length() + answer.length()) + 3 * 40
                    + (profile == null ? 0 : profile.estimatedBytes())
                    + (secondVectorLater ? 16 + 4L * vector.length : 0); // the second model's vector, once computed (same size here)
            for (CachedSource s : sources) {
                n += 64 + 2L * (s.documentId().length() + len(s.chunkId()) + len(s.title()) + len(s.snippet()));
            }
            return n;
        }

        private static int len(String s) {
            return s == null ? 0 : s.length();
        }
    }

    private static final class Partition {
        /** Copy-on-write; replaced under the cache's lock, read without it. */
        volatile Entry[] entries = new Entry[0];
        final ConcurrentHashMap<String, Entry> exact = new ConcurrentHashMap<>();
    }

    private static final int[] NO_TERMS = new int[0];
    private static final long[] NO_TRIGRAMS = new long[0];

    /** Invalidation records kept for tickets; older ones are summarised by {@link #forgottenBefore}. */
    private static final int MAX_INVALIDATION_RECORDS = 100_000;

    private final Settings settings;
    /** Null: no verification (semantic hits are decided by threshold and margin alone). */
    private final DuplicateVerifier verifier;
    private final Verification verification;
    private final LongSupplier nanoClock;
    private final long ttlNanos;
    private final ConcurrentHashMap<PartitionKey, Partition> partitions = new ConcurrentHashMap<>();

    private final ReentrantLock lock = new ReentrantLock();
    // Guarded by lock:
    private final LinkedHashMap<Entry, Boolean> lru = new LinkedHashMap<>(256, 0.75f, true);
    private final Map<TenantDocument, Set<Entry>> byDocument = new HashMap<>();
    private final LinkedHashMap<TenantDocument, Long> invalidatedAt = new LinkedHashMap<>();
    private final Map<String, Long> tenantInvalidatedAt = new HashMap<>();
    private long forgottenBefore;
    private long bytes;
    private volatile long sequence;

    private final LongAdder exactHits = new LongAdder();
    private final LongAdder semanticHits = new LongAdder();
    private final LongAdder misses = new LongAdder();
    private final LongAdder ambiguous = new LongAdder();
    private final LongAdder identifierMismatches = new LongAdder();
    private final LongAdder unverified = new LongAdder();
    private final LongAdder stored = new LongAdder();
    private final LongAdder rejected = new LongAdder();
    private final LongAdder evictions = new LongAdder();
    private final LongAdder expirations = new LongAdder();
    private final LongAdder invalidations = new LongAdder();
    private final LongAdder replaced = new LongAdder();

    /**
     * @param nanoClock monotonic time in nanoseconds ({@code System::nanoTime}); tests pass their own
     */
    public SemanticCache(Settings settings, LongSupplier nanoClock) {
        this(settings, Verification.NONE, nanoClock);
    }

    /**
     * @param verifier  the check every semantic hit must pass ({@link DuplicateVerifier}); null for none
     * @param nanoClock monotonic time in nanoseconds ({@code System::nanoTime}); tests pass their own
     */
    public SemanticCache(Settings settings, DuplicateVerifier verifier, LongSupplier nanoClock) {
        this(settings, Verification.of(verifier), nanoClock);
    }

    /**
     * @param verification how semantic hits are checked ({@link Verification#NONE}: not at all)
     * @param nanoClock    monotonic time in nanoseconds ({@code System::nanoTime}); tests pass their own
     */
    public SemanticCache(Settings settings, Verification verification, LongSupplier nanoClock) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.verification = Objects.requireNonNull(verification, "verification");
        this.verifier = verification.verifier();
        this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
        this.ttlNanos = settings.ttl().toNanos();
    }

    public Settings settings() {
        return settings;
    }

    /**
     * Runs the verifier's second embedding model once (its ONNX session's first run is slow), so
     * the first verified lookup does not pay for it; nothing without a second model.
     */
    public void warmUp() {
        if (verification.needsSecondVector()) {
            verification.secondEmbedder().apply("warm up");
        }
    }

    /**
     * Looks the query up. The embedding is only computed (by calling {@code embedding}) when the
     * exact fast path misses. Counts a hit or a miss and marks the entry recently used.
     */
    public Optional<CacheHit> lookup(String tenant, CacheScope scope, String query, Supplier<float[]> embedding) {
        return find(tenant, scope, query, embedding, true);
    }

    /** {@link #lookup(String, CacheScope, String, Supplier)} with the embedding at hand. */
    public Optional<CacheHit> lookup(String tenant, CacheScope scope, String query, float[] embedding) {
        Objects.requireNonNull(embedding, "embedding");
        return find(tenant, scope, query, () -> embedding, true);
    }

    /**
     * Whether and what a lookup would answer, without counting it or changing recency: for an
     * offload hint that only predicts a cache hit.
     */
    public Optional<CacheHit> peek(String tenant, CacheScope scope, String query, Supplier<float[]> embedding) {
        return find(tenant, scope, query, embedding, false);
    }

    /**
     * True when the normalised question itself is cached (the exact path only, no embedding):
     * cheap enough for the offload decision on the event loop. Counts nothing.
     */
    public boolean containsExact(String tenant, CacheScope scope, String query) {
        if (!settings.enabled()) {
            return false;
        }
        Partition partition = partitions.get(new PartitionKey(tenant, scope));
        if (partition == null) {
            return false;
        }
        Entry exact = partition.exact.get(LexicalOverlap.normalize(query));
        return exact != null && exact.live && !expired(exact, nanoClock.getAsLong());
    }

    private Optional<CacheHit> find(String tenant, CacheScope scope, String query, Supplier<float[]> embedding,
                                    boolean record) {
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(scope, "scope");
        Objects.requireNonNull(query, "query");
        Objects.requireNonNull(embedding, "embedding");
        if (!settings.enabled()) {
            return miss(record, false);
        }
        Partition partition = partitions.get(new PartitionKey(tenant, scope));
        if (partition == null) {
            return miss(record, false);
        }
        long now = nanoClock.getAsLong();
        String normalized = LexicalOverlap.normalize(query);
        Entry exact = partition.exact.get(normalized);
        if (exact != null && exact.live && !expired(exact, now)) {
            return hit(exact, 1.0, true, now, record);
        }
        float[] q = unit(embedding.get());
        Entry[] entries = partition.entries;
        int k = Math.min(settings.candidates(), entries.length);
        Entry[] top = new Entry[k];
        double[] topCos = new double[k];
        int found = 0;
        List<Entry> expiredSeen = null;
        for (Entry e : entries) {
            if (!e.live) {
                continue;
            }
            if (expired(e, now)) {
                if (expiredSeen == null) {
                    expiredSeen = new ArrayList<>();
                }
                expiredSeen.add(e);
                continue;
            }
            if (e.vector.length != q.length) {
                throw new IllegalArgumentException("embedding has " + q.length + " dimensions, cached ones "
                        + e.vector.length);
            }
            double cos = dot(q, e.vector);
            if (found < k || cos > topCos[found - 1]) {
                int at = found < k ? found++ : k - 1;
                while (at > 0 && topCos[at - 1] < cos) {
                    top[at] = top[at - 1];
                    topCos[at] = topCos[at - 1];
                    at--;
                }
                top[at] = e;
                topCos[at] = cos;
            }
        }
        if (expiredSeen != null) {
            expire(expiredSeen);
        }
        if (found == 0) {
            return miss(record, false);
        }
        // Verify: a candidate that names other things (an account, an amount, a date, a person) is
        // another question, however near; it can be neither the hit nor a rival for it.
        QueryIdentifiers asked = QueryIdentifiers.of(query);
        int kept = 0;
        for (int i = 0; i < found; i++) {
            if (top[i].identifiers.sameAs(asked)) {
                top[kept] = top[i];
                topCos[kept] = topCos[i];
                kept++;
            }
        }
        if (kept == 0) {
            if (record) {
                identifierMismatches.increment(); // and a miss, counted below
            }
            return miss(record, false);
        }
        found = kept;
        // Re-score the nearest candidates with surface overlap.
        int[] terms = settings.lexicalWeight() > 0 ? LexicalOverlap.terms(normalized) : null;
        long[] trigrams = settings.trigramWeight() > 0 ? LexicalOverlap.trigrams(normalized) : null;
        double[] score = new double[found];
        int best = 0;
        for (int i = 0; i < found; i++) {
            score[i] = topCos[i]
                    + (terms == null ? 0 : settings.lexicalWeight() * LexicalOverlap.jaccard(terms, top[i].terms))
                    + (trigrams == null ? 0 : settings.trigramWeight() * LexicalOverlap.jaccard(trigrams, top[i].trigrams));
            if (score[i] > score[best]) {
                best = i;
            }
        }
        if (topCos[best] < settings.similarityThreshold()) {
            return miss(record, false);
        }
        for (int i = 0; i < found; i++) {
            if (i != best && score[best] - score[i] < settings.ambiguityMargin() && !top[i].answer.equals(top[best].answer)) {
                return miss(record, true);
            }
        }
        if (verifier == null) {
            return hit(top[best], Math.min(1.0, topCos[best]), false, now, record);
        }
        // Verify: the question answered must be the same question (not its negation, another
        // number, unit, model or the opposite action); a failed or uncertain check is a miss. The
        // best-ranked candidates over the threshold are checked (one by default); the accepted one
        // the verifier is surest of answers.
        Integer[] order = new Integer[found];
        order[0] = best;
        for (int i = 0, o = 1; i < found; i++) {
            if (i != best) {
                order[o++] = i;
            }
        }
        final double[] rank = score;
        Arrays.sort(order, 1, found, (x, y) -> Double.compare(rank[y], rank[x]));
        PairFeatures.Profile askedProfile = PairFeatures.profile(query);
        float[] secondQuery = null;
        int chosen = -1;
        double chosenP = Double.NEGATIVE_INFINITY;
        int checked = 0;
        for (int o = 0; o < found && checked < verification.candidates(); o++) {
            int i = order[o];
            if (topCos[i] < settings.similarityThreshold()) {
                continue;
            }
            checked++;
            double second = Double.NaN;
            if (verification.needsSecondVector()) {
                if (secondQuery == null) {
                    secondQuery = secondVector(query);
                }
                float[] stored = top[i].secondVector;
                if (stored == null && secondQuery != null) {
                    stored = secondVector(top[i].query);
                    top[i].secondVector = stored; // a failed embedding stays null: tried again next time
                }
                second = secondQuery == null || stored == null || secondQuery.length != stored.length ? Double.NaN
                        : dot(secondQuery, stored);
            }
            double p = verifier.probability(PairFeatures.of(topCos[i], second, askedProfile, top[i].profile));
            if (p >= verifier.threshold() && p > chosenP) {
                chosen = i;
                chosenP = p;
            }
        }
        if (chosen < 0) {
            if (record) {
                unverified.increment(); // and a miss, counted below
            }
            return miss(record, false);
        }
        return hit(top[chosen], Math.min(1.0, topCos[chosen]), false, now, record);
    }

    /** The text under the verifier's second model, unit length; null when it cannot be computed (a miss then). */
    private float[] secondVector(String text) {
        try {
            float[] v = verification.secondEmbedder().apply(text);
            return v == null ? null : unit(v);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private Optional<CacheHit> hit(Entry e, double similarity, boolean exact, long now, boolean record) {
        if (record) {
            (exact ? exactHits : semanticHits).increment();
            lock.lock();
            try {
                if (e.live) {
                    lru.get(e); // access order: now the most recently used
                }
            } finally {
                lock.unlock();
            }
        }
        return Optional.of(new CacheHit(e.answer, e.sources, similarity, exact, e.query,
                Duration.ofNanos(Math.max(0, now - e.storedAt))));
    }

    private Optional<CacheHit> miss(boolean record, boolean isAmbiguous) {
        if (record) {
            misses.increment();
            if (isAmbiguous) {
                ambiguous.increment();
            }
        }
        return Optional.empty();
    }

    /**
     * A mark to take before retrieving the context of an answer that may be stored: {@link #put}
     * refuses the answer if one of its documents is invalidated after this mark.
     */
    public long ticket() {
        return sequence;
    }

    /**
     * Stores an answer. An entry with the same normalised query in the same partition is
     * replaced. Only store answers a model generated from the given sources; fallbacks and errors
     * do not belong here.
     *
     * @param ticket    {@link #ticket()} taken before the sources were retrieved
     * @param embedding the query's embedding (copied and normalised to unit length)
     * @return true when stored; false when disabled, when a source document was invalidated after
     * {@code ticket}, or when the entry alone is larger than {@code maxBytes}
     */
    public boolean put(long ticket, String tenant, CacheScope scope, String query, float[] embedding, String answer,
                       List<CachedSource> sources) {
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(scope, "scope");
        Objects.requireNonNull(query, "query");
        Objects.requireNonNull(answer, "answer");
        List<CachedSource> src = List.copyOf(sources);
        if (!settings.enabled()) {
            return false;
        }
        if (embedding.length == 0) {
            throw new IllegalArgumentException("empty embedding");
        }
        PartitionKey key = new PartitionKey(tenant, scope);
        String normalized = LexicalOverlap.normalize(query);
        // Only what the ranking uses is computed and held.
        Entry entry = new Entry(key, query, normalized, unit(embedding),
                settings.lexicalWeight() > 0 ? LexicalOverlap.terms(normalized) : NO_TERMS,
                settings.trigramWeight() > 0 ? LexicalOverlap.trigrams(normalized) : NO_TRIGRAMS,
                verifier == null ? null : PairFeatures.profile(query),
                verification.needsSecondVector(), answer, src, nanoClock.getAsLong());
        if (entry.bytes > settings.maxBytes()) {
            rejected.increment();
            return false;
        }
        lock.lock();
        try {
            if (invalidatedSince(ticket, tenant, src)) {
                rejected.increment();
                return false;
            }
            Partition partition = partitions.computeIfAbsent(key, k -> new Partition());
            Entry[] current = partition.entries;
            if (current.length > 0 && current[0].vector.length != entry.vector.length) {
                throw new IllegalArgumentException("embedding has " + entry.vector.length + " dimensions, cached ones "
                        + current[0].vector.length);
            }
            Entry old = partition.exact.get(normalized);
            if (old != null) {
                removeLocked(List.of(old));
                replaced.increment();
                partition = partitions.computeIfAbsent(key, k -> new Partition());
            }
            Entry[] grown = Arrays.copyOf(partition.entries, partition.entries.length + 1);
            grown[grown.length - 1] = entry;
            partition.entries = grown;
            partition.exact.put(normalized, entry);
            lru.put(entry, Boolean.TRUE);
            for (CachedSource s : src) {
                byDocument.computeIfAbsent(new TenantDocument(tenant, s.documentId()), d -> new HashSet<>()).add(entry);
            }
            bytes += entry.bytes;
            stored.increment();
            evictLocked(entry);
            return true;
        } finally {
            lock.unlock();
        }
    }

    private boolean invalidatedSince(long ticket, String tenant, List<CachedSource> sources) {
        if (ticket >= sequence) {
            return false;
        }
        if (ticket < forgottenBefore || tenantInvalidatedAt.getOrDefault(tenant, Long.MIN_VALUE) > ticket) {
            return true;
        }
        for (CachedSource s : sources) {
            Long at = invalidatedAt.get(new TenantDocument(tenant, s.documentId()));
            if (at != null && at > ticket) {
                return true;
            }
        }
        return false;
    }

    /** Over a bound: expired entries go first, then least recently used ones (never {@code keep}). */
    private void evictLocked(Entry keep) {
        if (lru.size() <= settings.maxEntries() && bytes <= settings.maxBytes()) {
            return;
        }
        long now = nanoClock.getAsLong();
        List<Entry> stale = new ArrayList<>();
        for (Entry e : lru.keySet()) {
            if (expired(e, now)) {
                stale.add(e);
            }
        }
        removeLocked(stale);
        expirations.add(stale.size());
        List<Entry> victims = new ArrayList<>();
        int entries = lru.size();
        long held = bytes;
        Iterator<Entry> eldest = lru.keySet().iterator();
        while ((entries > settings.maxEntries() || held > settings.maxBytes()) && eldest.hasNext()) {
            Entry e = eldest.next();
            if (e == keep) {
                continue;
            }
            victims.add(e);
            entries--;
            held -= e.bytes;
        }
        removeLocked(victims);
        evictions.add(victims.size());
    }

    private void expire(List<Entry> seen) {
        lock.lock();
        try {
            List<Entry> live = new ArrayList<>();
            for (Entry e : seen) {
                if (e.live) {
                    live.add(e);
                }
            }
            removeLocked(live);
            expirations.add(live.size());
        } finally {
            lock.unlock();
        }
    }

    /** Drops the entries everywhere; one array copy per partition touched. */
    private void removeLocked(Collection<Entry> doomed) {
        if (doomed.isEmpty()) {
            return;
        }
        Map<PartitionKey, Set<Entry>> byPartition = new HashMap<>();
        for (Entry e : doomed) {
            if (!e.live) {
                continue;
            }
            e.live = false;
            lru.remove(e);
            bytes -= e.bytes;
            byPartition.computeIfAbsent(e.key, k -> Collections.newSetFromMap(new IdentityHashMap<>())).add(e);
            for (CachedSource s : e.sources) {
                TenantDocument d = new TenantDocument(e.key.tenant(), s.documentId());
                Set<Entry> set = byDocument.get(d);
                if (set != null && set.remove(e) && set.isEmpty()) {
                    byDocument.remove(d);
                }
            }
        }
        byPartition.forEach((key, gone) -> {
            Partition p = partitions.get(key);
            if (p == null) {
                return;
            }
            List<Entry> keep = new ArrayList<>(p.entries.length);
            for (Entry e : p.entries) {
                if (!gone.contains(e)) {
                    keep.add(e);
                }
            }
            for (Entry e : gone) {
                p.exact.remove(e.normalized, e);
            }
            if (keep.isEmpty()) {
                partitions.remove(key, p);
            } else {
                p.entries = keep.toArray(new Entry[0]);
            }
        });
    }

    /**
     * Drops every entry of the tenant built from the document (call when it is updated or
     * deleted), and makes puts with an older {@link #ticket()} that cite it fail.
     *
     * @return entries dropped
     */
    public int invalidateDocument(String tenant, String documentId) {
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(documentId, "documentId");
        lock.lock();
        try {
            long seq = ++sequence;
            TenantDocument d = new TenantDocument(tenant, documentId);
            invalidatedAt.remove(d);
            invalidatedAt.put(d, seq);
            while (invalidatedAt.size() > MAX_INVALIDATION_RECORDS) {
                Iterator<Map.Entry<TenantDocument, Long>> it = invalidatedAt.entrySet().iterator();
                forgottenBefore = Math.max(forgottenBefore, it.next().getValue());
                it.remove();
            }
            Set<Entry> hit = byDocument.get(d);
            if (hit == null) {
                return 0;
            }
            List<Entry> doomed = new ArrayList<>(hit);
            removeLocked(doomed);
            invalidations.add(doomed.size());
            return doomed.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Drops every entry of the tenant (e.g. after a bulk re-index) and makes older tickets of the
     * tenant fail.
     *
     * @return entries dropped
     */
    public int invalidateTenant(String tenant) {
        Objects.requireNonNull(tenant, "tenant");
        lock.lock();
        try {
            tenantInvalidatedAt.put(tenant, ++sequence);
            int n = removeWhereLocked(e -> e.key.tenant().equals(tenant));
            invalidations.add(n);
            return n;
        } finally {
            lock.unlock();
        }
    }

    /** Drops expired entries now (lookups and puts also drop those they meet). */
    public int purgeExpired() {
        long now = nanoClock.getAsLong();
        lock.lock();
        try {
            int n = removeWhereLocked(e -> expired(e, now));
            expirations.add(n);
            return n;
        } finally {
            lock.unlock();
        }
    }

    /** Removes every entry matching {@code doomed}; the lock is held. */
    private int removeWhereLocked(java.util.function.Predicate<Entry> doomed) {
        List<Entry> matching = new ArrayList<>();
        for (Entry e : lru.keySet()) {
            if (doomed.test(e)) {
                matching.add(e);
            }
        }
        removeLocked(matching);
        return matching.size();
    }

    public CacheStats stats() {
        int entries;
        long held;
        lock.lock();
        try {
            entries = lru.size();
            held = bytes;
        } finally {
            lock.unlock();
        }
        return new CacheStats(exactHits.sum(), semanticHits.sum(), misses.sum(), ambiguous.sum(), identifierMismatches.sum(),
                unverified.sum(), stored.sum(),
                rejected.sum(), evictions.sum(), expirations.sum(), invalidations.sum(), replaced.sum(), entries, held);
    }

    private boolean expired(Entry e, long now) {
        return now - e.storedAt >= ttlNanos;
    }

    private static float[] unit(float[] v) {
        double norm = 0;
        for (float x : v) {
            norm += (double) x * x;
        }
        if (norm == 0 || Double.isNaN(norm)) {
            throw new IllegalArgumentException("embedding has no direction (zero or NaN)");
        }
        float inv = (float) (1 / Math.sqrt(norm));
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i] * inv;
        }
        return out;
    }

    private static double dot(float[] a, float[] b) {
        float s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }
}
