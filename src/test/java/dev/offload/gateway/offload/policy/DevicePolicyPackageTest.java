package dev.offload.gateway.offload.policy;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.spi.ToolProvider;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The device-policy package depends on nothing but the JDK's {@code java.base}: (1) the JDK's own
 * {@code jdeps} over exactly the files the {@code device-policy} jar holds (the package's class
 * files and its resource, copied apart) finds no class outside {@code java.*} and the package, and
 * (2) those files, loaded by a class loader that sees only them and the JDK, read a pushed
 * snapshot and decide as the gateway's classes do.
 */
class DevicePolicyPackageTest {
    static final String PACKAGE = PolicySettings.class.getPackageName();
    static final String DIR = PACKAGE.replace('.', '/');
    static Path copy;

    /** What the jar plugin's {@code <include>dev/offload/gateway/offload/policy/**</include>} takes. */
    @BeforeAll
    static void copyThePackageApart() throws Exception {
        Path classes = Path.of(PolicySettings.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        copy = Files.createTempDirectory("device-policy");
        Path from = classes.resolve(DIR);
        try (Stream<Path> files = Files.walk(from)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Path to = copy.resolve(DIR).resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(f, to);
                }
            }
        }
        assertTrue(Files.exists(copy.resolve(DIR).resolve("local-quality-router-all-minilm-l6-v2-q.properties")), "the router's weights");
    }

    @Test
    void jdepsFindsNothingButJavaBase() {
        ToolProvider jdeps = ToolProvider.findFirst("jdeps").orElseThrow(() -> new AssertionError("the JDK has no jdeps"));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = jdeps.run(new PrintWriter(out), new PrintWriter(err), "-verbose:class", "-filter:none", copy.toString());
        assertEquals(0, rc, err.toString());
        Set<String> foreign = new TreeSet<>();
        int edges = 0;
        for (String line : out.toString().split("\n")) {
            String[] t = line.strip().split("\\s+");
            if (t.length >= 3 && t[1].equals("->") && t[0].startsWith(PACKAGE + ".")) {
                edges++;
                String target = t[2];
                String module = t.length > 3 ? t[3] : "";
                boolean own = target.startsWith(PACKAGE + ".") && !target.substring(PACKAGE.length() + 1).contains(".");
                boolean jdk = target.startsWith("java.") && module.equals("java.base");
                if (!own && !jdk) {
                    foreign.add(t[0] + " -> " + target + " " + module);
                }
            }
        }
        assertTrue(edges > 100, "jdeps listed the package's dependencies:\n" + out);
        assertTrue(foreign.isEmpty(), "outside java.base: " + foreign);
    }

    @Test
    void itRunsOnAClassLoaderThatSeesOnlyTheJdkAndThePackage() throws Exception {
        GatewaySnapshot snapshot = new GatewaySnapshot(1, 7, 0, 30_000,
                new GatewayView.TierView(new TierState("edge", false, 2, 2, 16, 3, 0, 256, 0, 180, 40, 2000, 5000), 8192, 10_000),
                null, new GatewaySnapshot.CacheState(true), PolicySettings.defaults());
        String json = snapshot.toJson();
        float[] embedding = new float[LocalQualityRouter.bundled().dimension()];
        embedding[0] = 1;
        String text = "what is the torque for the P-7 housing bolts";
        OffloadHint here = new OffloadPolicy(PolicySettings.defaults()).decide(
                LocalAdvisor.withBundledRouter().input(new LocalAdvisor.Question(null, text, embedding, 0, null, null), snapshot));

        try (URLClassLoader jdkOnly = new URLClassLoader(new URL[]{copy.toUri().toURL()}, ClassLoader.getPlatformClassLoader())) {
            Class<?> snapshots = jdkOnly.loadClass(PACKAGE + ".GatewaySnapshot");
            assertNotSame(GatewaySnapshot.class, snapshots, "loaded apart from the test's class path");
            assertThrows(ClassNotFoundException.class, () -> jdkOnly.loadClass("org.junit.jupiter.api.Test"));
            Object theirs = snapshots.getMethod("fromJson", String.class).invoke(null, json);
            Class<?> advisors = jdkOnly.loadClass(PACKAGE + ".LocalAdvisor");
            Object advisor = advisors.getMethod("withBundledRouter").invoke(null);
            advisors.getMethod("accept", snapshots, long.class).invoke(advisor, theirs, 0L);
            Class<?> questions = jdkOnly.loadClass(PACKAGE + ".LocalAdvisor$Question");
            Object q = java.util.Arrays.stream(questions.getConstructors()).filter(c -> c.getParameterCount() == 7)
                    .findFirst().orElseThrow().newInstance(null, text, embedding, 0, null, null, null);
            Optional<?> hint = (Optional<?>) advisors.getMethod("decide", questions, long.class).invoke(advisor, q, 1L);
            assertTrue(hint.isPresent());
            Object h = hint.get();
            assertEquals(here.target().name(), invoke(invoke(h, "target"), "name"));
            List<String> codes = new ArrayList<>();
            for (Object r : (List<?>) invoke(h, "reasons")) {
                codes.add((String) invoke(r, "code"));
            }
            assertEquals(here.reasons().stream().map(OffloadHint.Reason::code).toList(), codes);
            assertEquals(here.estimates().localQuality(), invoke(invoke(h, "estimates"), "localQuality"));
            // And a stale snapshot is not used.
            Optional<?> stale = (Optional<?>) advisors.getMethod("decide", questions, long.class).invoke(advisor, q, 30_001L);
            assertFalse(stale.isPresent());
        }
    }

    private static Object invoke(Object o, String method) throws Exception {
        Method m = o.getClass().getMethod(method);
        return m.invoke(o);
    }
}
