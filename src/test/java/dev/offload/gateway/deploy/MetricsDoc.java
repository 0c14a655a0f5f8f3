package dev.offload.gateway.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** The metrics table of {@code src/site/markdown/metrics.md}, parsed. */
public final class MetricsDoc {
    public static final Path FILE = Path.of("src/site/markdown/metrics.md");
    private static final Path SOURCES = Path.of("src/main/java/dev/offload/gateway");

    /**
     * One row: the Prometheus name, its type column ({@code gauge}, {@code counter},
     * {@code timer}, {@code timer, histogram}), its tag names and the package that exports it.
     */
    public record Row(String name, String type, Set<String> tags, String exportedBy) {
        /** Whether the exporting package exists in the source tree (else the row describes a feature still to come). */
        public boolean packagePresent() {
            return Files.isDirectory(SOURCES.resolve(exportedBy));
        }
    }

    private MetricsDoc() {
    }

    public static List<Row> rows() {
        try {
            return parse(Files.readString(FILE));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The rows of the table whose header starts with {@code | name (Prometheus) |}. */
    public static List<Row> parse(String markdown) {
        List<Row> rows = new ArrayList<>();
        boolean inTable = false;
        List<String> header = null;
        for (String line : markdown.split("\n")) {
            if (line.startsWith("| name (Prometheus) |")) {
                header = cells(line);
                inTable = true;
                continue;
            }
            if (!inTable) {
                continue;
            }
            if (!line.startsWith("|")) {
                break;
            }
            if (line.startsWith("|---")) {
                continue;
            }
            List<String> c = cells(line);
            if (c.size() != header.size()) {
                throw new IllegalStateException("metrics.md row has " + c.size() + " cells, the header " + header.size() + ": " + line);
            }
            rows.add(new Row(unquote(c.get(header.indexOf("name (Prometheus)"))), c.get(header.indexOf("type")),
                    tags(c.get(header.indexOf("tags"))), unquote(c.get(header.indexOf("exported by")))));
        }
        if (rows.isEmpty()) {
            throw new IllegalStateException("no metrics table in metrics.md");
        }
        return rows;
    }

    /** Cells of a markdown row; {@code \|} inside a cell is not a separator. */
    private static List<String> cells(String line) {
        String body = line.strip();
        body = body.substring(1, body.length() - 1);
        List<String> out = new ArrayList<>();
        for (String cell : body.split("(?<!\\\\)\\|")) {
            out.add(cell.strip());
        }
        return out;
    }

    private static String unquote(String s) {
        return s.replace("`", "").strip();
    }

    /** {@code tier, direction=in\|out} → {@code [tier, direction]}; {@code —} → none. */
    private static Set<String> tags(String cell) {
        Set<String> out = new LinkedHashSet<>();
        if (cell.equals("—") || cell.isEmpty()) {
            return out;
        }
        // Commas separate tags; a tag's listed values use \| and never contain a comma.
        Arrays.stream(cell.split(",")).map(t -> t.split("=")[0].strip()).forEach(out::add);
        return out;
    }
}
