package dev.offload.gateway.api;

import javax.management.ObjectName;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The JVM's live class histogram (the {@code GC.class_histogram} diagnostic command, which runs
 * a full GC first) as class name → {instances, bytes}, and the growth between two of them: what
 * a soak that fails its heap bound holds on to.
 */
final class HeapHistogram {
    private HeapHistogram() {
    }

    static Map<String, long[]> live() {
        Map<String, long[]> classes = new HashMap<>();
        try {
            String text = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
                    new Object[] {new String[0]}, new String[] {String[].class.getName()});
            for (String line : text.split("\n")) {
                // "   1:         12345        6789012  java.lang.String (java.base@17)"
                String[] f = line.trim().split("\\s+");
                if (f.length >= 4 && f[0].endsWith(":")) {
                    classes.put(f[3], new long[] {Long.parseLong(f[1]), Long.parseLong(f[2])});
                }
            }
        } catch (Exception | LinkageError e) {
            classes.put("(histogram unavailable: " + e + ")", new long[] {0, 0});
        }
        return classes;
    }

    /** The {@code top} classes whose live bytes grew most from {@code before} to {@code after}, one per line. */
    static String growth(Map<String, long[]> before, Map<String, long[]> after, int top) {
        List<Map.Entry<String, long[]>> grown = new ArrayList<>();
        for (Map.Entry<String, long[]> e : after.entrySet()) {
            long[] b = before.getOrDefault(e.getKey(), new long[2]);
            grown.add(Map.entry(e.getKey(), new long[] {e.getValue()[0] - b[0], e.getValue()[1] - b[1]}));
        }
        grown.sort((x, y) -> Long.compare(y.getValue()[1], x.getValue()[1]));
        StringBuilder out = new StringBuilder();
        for (Map.Entry<String, long[]> e : grown.subList(0, Math.min(top, grown.size()))) {
            out.append(String.format("  %+12d B %+9d  %s%n", e.getValue()[1], e.getValue()[0], e.getKey()));
        }
        return out.toString();
    }
}
