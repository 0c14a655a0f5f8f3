package dev.offload.gateway.retrieval;

import dev.offload.gateway.retrieval.IndexRecords.PreparedDocument;
import dev.offload.gateway.retrieval.InvalidRequestException.Violation;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Validates a batch of documents against the configured limits, then chunks and embeds it.
 * Validation covers the whole batch before any work, so a rejected batch changes nothing.
 * Runs on worker threads only: embedding is CPU work.
 */
@ApplicationScoped
public class DocumentPreparer {
    private static final Pattern META_KEY = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    @Inject
    RetrievalConfig config;
    @Inject
    Embedder embedder;

    private volatile Chunker chunker;

    /** Throws {@link InvalidRequestException} naming every bad field; returns normally if all is well. */
    public void validate(List<NewDocument> documents) {
        RetrievalConfig.Ingest limits = config.ingest();
        if (documents == null || documents.isEmpty()) {
            throw InvalidRequestException.of("documents", "must contain at least one document");
        }
        if (documents.size() > limits.maxBatchDocuments()) {
            throw new InvalidRequestException(413, "too many documents in one request",
                    List.of(new Violation("documents", "at most " + limits.maxBatchDocuments()
                            + " documents per request, got " + documents.size())));
        }
        List<Violation> bad = new ArrayList<>();
        List<Violation> tooLarge = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < documents.size(); i++) {
            NewDocument d = documents.get(i);
            String p = "documents[" + i + "]";
            if (d == null) {
                bad.add(new Violation(p, "must be an object"));
                continue;
            }
            Optional<String> idProblem = DocumentIds.problem(d.id(), limits.maxIdBytes());
            if (idProblem.isPresent()) {
                bad.add(new Violation(p + ".id", idProblem.get()));
            } else if (!ids.add(d.id())) {
                bad.add(new Violation(p + ".id", "appears more than once in this request"));
            }
            if (d.text() == null || d.text().isBlank()) {
                bad.add(new Violation(p + ".text", "must not be empty"));
            } else if (d.text().length() > limits.maxDocumentChars()) {
                tooLarge.add(new Violation(p + ".text", "at most " + limits.maxDocumentChars()
                        + " characters, got " + d.text().length()));
            }
            if (d.title() != null && d.title().length() > limits.maxTitleLength()) {
                bad.add(new Violation(p + ".title", "at most " + limits.maxTitleLength() + " characters"));
            }
            if (d.metadata() != null) {
                if (d.metadata().size() > limits.maxMetadataEntries()) {
                    bad.add(new Violation(p + ".metadata", "at most " + limits.maxMetadataEntries() + " entries"));
                }
                for (var e : d.metadata().entrySet()) {
                    if (e.getKey() == null || !META_KEY.matcher(e.getKey()).matches()) {
                        bad.add(new Violation(p + ".metadata", "key '" + e.getKey()
                                + "' must be 1-64 letters, digits, '.', '_' or '-'"));
                    } else if (e.getValue() == null || e.getValue().length() > 256) {
                        bad.add(new Violation(p + ".metadata." + e.getKey(), "value must be a string of at most 256 characters"));
                    }
                }
            }
        }
        if (!tooLarge.isEmpty()) {
            tooLarge.addAll(bad);
            throw new InvalidRequestException(413, "document too large", tooLarge);
        }
        if (!bad.isEmpty()) {
            throw new InvalidRequestException(400, "invalid documents", bad);
        }
    }

    /** Chunks and embeds validated documents; all chunks of the batch are embedded in parallel. */
    public List<PreparedDocument> prepare(List<NewDocument> documents) {
        Chunker c = chunker();
        List<List<String>> chunksPerDoc = new ArrayList<>(documents.size());
        List<String> all = new ArrayList<>();
        for (NewDocument d : documents) {
            List<String> chunks = c.split(d.text());
            chunksPerDoc.add(chunks);
            all.addAll(chunks);
        }
        List<float[]> vectors = embedder.embedPassages(all);
        List<PreparedDocument> out = new ArrayList<>(documents.size());
        int offset = 0;
        for (int i = 0; i < documents.size(); i++) {
            NewDocument d = documents.get(i);
            List<String> chunks = chunksPerDoc.get(i);
            out.add(new PreparedDocument(d.id(), d.title() == null ? "" : d.title(), d.text(),
                    d.metadata() == null ? Map.of() : new LinkedHashMap<>(d.metadata()), chunks,
                    vectors.subList(offset, offset + chunks.size())));
            offset += chunks.size();
        }
        return out;
    }

    private Chunker chunker() {
        Chunker c = chunker;
        if (c == null) {
            c = new Chunker(config.chunking().maxChars(), config.chunking().overlapChars());
            chunker = c;
        }
        return c;
    }
}
