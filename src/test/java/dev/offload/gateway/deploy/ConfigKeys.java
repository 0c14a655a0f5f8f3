package dev.offload.gateway.deploy;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithName;
import io.smallrye.config.common.utils.StringUtil;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * The configuration keys the application really has: every property of every
 * {@code @ConfigMapping} interface under {@code dev.offload.gateway} (found in the compiled
 * classes, named by SmallRye's own kebab-case rule ({@code StringUtil.skewer}) or {@code @WithName}), plus every key
 * of application.properties (profile prefixes removed). Environment variables map onto them by
 * SmallRye's rule: upper case, every character other than a letter or digit becomes {@code _}.
 */
public final class ConfigKeys {
    private static final Path CLASSES = Path.of("target/classes");
    public static final Path APPLICATION_PROPERTIES = Path.of("src/main/resources/application.properties");

    private ConfigKeys() {
    }

    public static TreeSet<String> all() {
        TreeSet<String> keys = new TreeSet<>(fromMappings());
        keys.addAll(applicationProperties().stringPropertyNames().stream().map(ConfigKeys::withoutProfile).toList());
        return keys;
    }

    public static Properties applicationProperties() {
        Properties p = new Properties();
        try (var in = Files.newInputStream(APPLICATION_PROPERTIES)) {
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }

    /** A key as the prod profile sees it in application.properties ({@code %prod.} wins), or null. */
    public static String prodValue(String key) {
        Properties p = applicationProperties();
        return p.getProperty("%prod." + key, p.getProperty(key));
    }

    private static String withoutProfile(String key) {
        return key.startsWith("%") ? key.substring(key.indexOf('.') + 1) : key;
    }

    public static String envName(String key) {
        return key.toUpperCase(java.util.Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
    }

    public static TreeSet<String> fromMappings() {
        TreeSet<String> keys = new TreeSet<>();
        try (Stream<Path> s = Files.walk(CLASSES.resolve("dev/offload/gateway"))) {
            for (Path p : s.filter(f -> f.toString().endsWith(".class")).toList()) {
                String name = CLASSES.relativize(p).toString().replace('/', '.').replaceAll("\\.class$", "");
                Class<?> c = Class.forName(name, false, ConfigKeys.class.getClassLoader());
                ConfigMapping m = c.getAnnotation(ConfigMapping.class);
                if (m != null) {
                    collect(c, m.prefix(), keys);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(e);
        }
        if (keys.isEmpty()) {
            throw new IllegalStateException("no @ConfigMapping interface found under " + CLASSES);
        }
        return keys;
    }

    private static void collect(Class<?> group, String prefix, TreeSet<String> keys) {
        for (Method m : group.getMethods()) {
            if (m.getParameterCount() > 0 || Modifier.isStatic(m.getModifiers()) || m.isDefault()
                    || m.getDeclaringClass() == Object.class) {
                continue;
            }
            Class<?> mapped = mapGroupType(m.getGenericReturnType());
            if (mapped != null && m.isAnnotationPresent(io.smallrye.config.WithParentName.class)) {
                // A map of named groups (gateway.tiers.<name>.*): the names application.properties gives.
                for (String name : mapKeys(prefix)) {
                    collect(mapped, prefix + "." + name, keys);
                }
                continue;
            }
            WithName withName = m.getAnnotation(WithName.class);
            String key = prefix + "." + (withName != null ? withName.value() : StringUtil.skewer(m.getName()));
            Class<?> nested = groupType(m.getGenericReturnType());
            if (nested != null) {
                collect(nested, key, keys);
            } else {
                keys.add(key);
            }
        }
    }

    /** The names application.properties gives below {@code prefix} (its map keys). */
    private static TreeSet<String> mapKeys(String prefix) {
        TreeSet<String> names = new TreeSet<>();
        for (String k : applicationProperties().stringPropertyNames()) {
            String key = withoutProfile(k);
            if (key.startsWith(prefix + ".")) {
                String rest = key.substring(prefix.length() + 1);
                int dot = rest.indexOf('.');
                if (dot > 0) {
                    names.add(rest.substring(0, dot));
                }
            }
        }
        return names;
    }

    /** The group interface of a {@code Map<String, Group>}, or null. */
    private static Class<?> mapGroupType(Type t) {
        if (t instanceof ParameterizedType p && p.getRawType() == java.util.Map.class) {
            return groupType(p.getActualTypeArguments()[1]);
        }
        return null;
    }

    /** The group interface a property returns (directly or in an Optional), or null for a leaf. */
    private static Class<?> groupType(Type t) {
        if (t instanceof ParameterizedType p && p.getRawType() == java.util.Optional.class) {
            t = p.getActualTypeArguments()[0];
        }
        return t instanceof Class<?> c && c.isInterface() && c.getName().startsWith("dev.offload.") ? c : null;
    }
}
