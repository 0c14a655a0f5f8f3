package dev.offload.gateway.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The deployment files as data: YAML (multi-document) and JSON parsed with Jackson, and a
 * kustomization rendered the way kustomize renders the parts this project uses — resources
 * (files and other kustomizations), patches as strategic merges (maps merge; lists of objects
 * merge by {@code name}; other lists are replaced; {@code null} deletes a field; a patch with
 * {@code $patch: delete} deletes its resource), {@code namespace}. Generators are not
 * rendered (the one generator, k8s/monitoring, is checked file by file).
 */
public final class Manifests {
    public static final Path K8S = Path.of("k8s");
    public static final Path COMPOSE = Path.of("docker-compose.yml");
    public static final ObjectMapper YAML = new YAMLMapper();
    public static final ObjectMapper JSON = new ObjectMapper();

    private Manifests() {
    }

    /** Every YAML and JSON file under k8s/, and docker-compose.yml. */
    public static List<Path> allFiles() {
        try (Stream<Path> s = Files.walk(K8S)) {
            List<Path> out = new ArrayList<>(s.filter(Files::isRegularFile)
                    .filter(p -> p.toString().matches(".*\\.(ya?ml|json)$")).sorted().toList());
            out.add(COMPOSE);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The documents of a YAML file (or the one document of a JSON file); empty documents skipped. */
    public static List<JsonNode> read(Path file) {
        try {
            if (file.toString().endsWith(".json")) {
                return List.of(JSON.readTree(file.toFile()));
            }
            List<JsonNode> docs = new ArrayList<>();
            try (var parser = new YAMLFactory().createParser(file.toFile())) {
                var it = YAML.readValues(parser, JsonNode.class);
                while (it.hasNext()) {
                    JsonNode n = it.next();
                    if (n != null && !n.isNull() && !n.isMissingNode()) {
                        docs.add(n);
                    }
                }
            }
            return docs;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot parse " + file + ": " + e.getMessage(), e);
        }
    }

    public static JsonNode readOne(Path file) {
        List<JsonNode> docs = read(file);
        if (docs.size() != 1) {
            throw new IllegalStateException(file + " has " + docs.size() + " documents, expected one");
        }
        return docs.get(0);
    }

    /** Files a kustomization names: resources (files or directories), patches, generator files. */
    public static List<Path> referencedPaths(Path kustomizationDir) {
        JsonNode k = readOne(kustomizationDir.resolve("kustomization.yaml"));
        List<Path> out = new ArrayList<>();
        k.path("resources").forEach(r -> out.add(kustomizationDir.resolve(r.asText()).normalize()));
        k.path("patches").forEach(p -> out.add(kustomizationDir.resolve(p.path("path").asText()).normalize()));
        k.path("patchesStrategicMerge").forEach(p -> out.add(kustomizationDir.resolve(p.asText()).normalize()));
        for (String gen : List.of("configMapGenerator", "secretGenerator")) {
            k.path(gen).forEach(g -> g.path("files").forEach(f -> {
                String spec = f.asText();
                out.add(kustomizationDir.resolve(spec.contains("=") ? spec.substring(spec.indexOf('=') + 1) : spec).normalize());
            }));
        }
        return out;
    }

    /** The resources a kustomization produces (deep copies, patched). */
    public static List<ObjectNode> render(Path kustomizationDir) {
        JsonNode k = readOne(kustomizationDir.resolve("kustomization.yaml"));
        List<ObjectNode> out = new ArrayList<>();
        for (JsonNode r : k.path("resources")) {
            Path p = kustomizationDir.resolve(r.asText()).normalize();
            if (Files.isDirectory(p)) {
                out.addAll(render(p));
            } else {
                read(p).forEach(d -> out.add((ObjectNode) d.deepCopy()));
            }
        }
        List<JsonNode> patches = new ArrayList<>();
        k.path("patches").forEach(p -> patches.addAll(read(kustomizationDir.resolve(p.path("path").asText()))));
        for (JsonNode patch : patches) {
            if (patch.path("$patch").asText().equals("delete")) {
                ObjectNode gone = find(out, patch.path("kind").asText(), patch.path("metadata").path("name").asText())
                        .orElseThrow(() -> new IllegalStateException(kustomizationDir + ": delete patch for "
                                + patch.path("kind").asText() + "/" + patch.path("metadata").path("name").asText() + " matches no resource"));
                out.remove(gone);
                continue;
            }
            ObjectNode target = find(out, patch.path("kind").asText(), patch.path("metadata").path("name").asText())
                    .orElseThrow(() -> new IllegalStateException(kustomizationDir + ": patch for "
                            + patch.path("kind").asText() + "/" + patch.path("metadata").path("name").asText()
                            + " matches no resource"));
            merge(target, patch);
        }
        if (k.has("namespace")) {
            for (ObjectNode o : out) {
                if (!o.path("kind").asText().equals("Namespace")) {
                    ((ObjectNode) o.with("metadata")).put("namespace", k.get("namespace").asText());
                }
            }
        }
        return out;
    }

    public static Optional<ObjectNode> find(List<ObjectNode> resources, String kind, String name) {
        return resources.stream().filter(o -> o.path("kind").asText().equals(kind)
                && o.path("metadata").path("name").asText().equals(name)).findFirst();
    }

    public static ObjectNode get(List<ObjectNode> resources, String kind, String name) {
        return find(resources, kind, name).orElseThrow(() -> new AssertionError("no " + kind + "/" + name));
    }

    public static List<ObjectNode> ofKind(List<ObjectNode> resources, String kind) {
        return resources.stream().filter(o -> o.path("kind").asText().equals(kind)).toList();
    }

    /** Strategic merge, as far as this project's patches need it. */
    static void merge(ObjectNode target, JsonNode patch) {
        patch.fields().forEachRemaining(e -> {
            JsonNode existing = target.get(e.getKey());
            JsonNode value = e.getValue();
            if (value.isNull()) { // a strategic merge's null deletes the field
                target.remove(e.getKey());
            } else if (existing instanceof ObjectNode o && value.isObject()) {
                merge(o, value);
            } else if (existing instanceof ArrayNode a && value.isArray() && namedObjects(a) && namedObjects(value)) {
                for (JsonNode item : value) {
                    Optional<JsonNode> same = stream(a).filter(x -> x.path("name").equals(item.path("name"))).findFirst();
                    if (same.isPresent()) {
                        merge((ObjectNode) same.get(), item);
                    } else {
                        a.add(item.deepCopy());
                    }
                }
            } else {
                target.set(e.getKey(), value.deepCopy());
            }
        });
    }

    private static boolean namedObjects(JsonNode array) {
        return array.size() > 0 && stream(array).allMatch(x -> x.isObject() && x.has("name"));
    }

    public static Stream<JsonNode> stream(JsonNode array) {
        List<JsonNode> l = new ArrayList<>();
        array.forEach(l::add);
        return l.stream();
    }

    /** The {@code authorization { ... }} block of a nats.conf, braces matched. */
    public static String authorizationBlock(String conf) {
        int start = conf.indexOf("authorization {");
        if (start < 0) {
            throw new AssertionError("nats.conf has no authorization block");
        }
        int depth = 0;
        for (int i = conf.indexOf('{', start); i < conf.length(); i++) {
            if (conf.charAt(i) == '{') {
                depth++;
            } else if (conf.charAt(i) == '}' && --depth == 0) {
                return conf.substring(start, i + 1);
            }
        }
        throw new AssertionError("unbalanced authorization block");
    }

}
