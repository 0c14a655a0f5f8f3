package dev.offload.gateway.retrieval;

import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The operator documentation that ships in {@code sample-corpus/} on the classpath, loaded into
 * a brand-new index so a first search returns something meaningful. Its documents carry
 * {@code metadata.source=sample} so they are easy to find and delete.
 */
@ApplicationScoped
public class SampleCorpus {
    public static final String TENANT = "default";

    @Inject
    DocumentPreparer preparer;
    @Inject
    ObjectMapper json;

    int loadInto(HybridIndex index) throws IOException {
        List<NewDocument> docs = read();
        preparer.validate(docs);
        index.upsert(TENANT, preparer.prepare(docs));
        return docs.size();
    }

    List<NewDocument> read() {
        List<NewDocument> docs = new ArrayList<>();
        ClassLoader cl = Thread.currentThread().getContextClassLoader();
        try (InputStream list = cl.getResourceAsStream("sample-corpus/index.txt")) {
            if (list == null) {
                return docs;
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(list, StandardCharsets.UTF_8));
            for (String line; (line = r.readLine()) != null; ) {
                if (line.isBlank()) {
                    continue;
                }
                try (InputStream in = cl.getResourceAsStream("sample-corpus/" + line.strip())) {
                    NewDocument d = json.readValue(in, NewDocument.class);
                    var meta = new java.util.LinkedHashMap<>(d.metadata() == null ? java.util.Map.of() : d.metadata());
                    meta.put("source", "sample");
                    docs.add(new NewDocument(d.id(), d.title(), d.text(), meta));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return docs;
    }
}
