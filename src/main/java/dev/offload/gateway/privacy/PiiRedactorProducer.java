package dev.offload.gateway.privacy;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;

import java.util.List;
import java.util.Map;
import java.util.Set;

/** Builds the one {@link PiiRedactor} of the process from {@link PrivacyConfig}; a bad pattern fails start-up. */
@ApplicationScoped
public class PiiRedactorProducer {
    @Produces
    @ApplicationScoped
    PiiRedactor piiRedactor(PrivacyConfig config) {
        return build(config.piiTypes(), config.builtInNationalIds(), config.nationalIdPatterns(), config.phoneRegions());
    }

    static PiiRedactor build(Set<PiiType> types, List<String> builtIns, Map<String, String> patterns) {
        return build(types, builtIns, patterns, PiiRedactor.Builder.DEFAULT_PHONE_REGIONS);
    }

    static PiiRedactor build(Set<PiiType> types, List<String> builtIns, Map<String, String> patterns,
                             List<String> phoneRegions) {
        PiiRedactor.Builder b = PiiRedactor.builder().types(types).clearNationalIds().phoneRegions(phoneRegions);
        for (String name : builtIns) {
            String n = name.strip();
            if (n.equalsIgnoreCase("none")) {
                continue;
            }
            String regex = PiiRedactor.BUILT_IN_NATIONAL_IDS.get(n);
            if (regex == null) {
                throw new IllegalArgumentException("gateway.privacy.built-in-national-ids: unknown '" + n
                        + "'; known: " + PiiRedactor.BUILT_IN_NATIONAL_IDS.keySet() + " or none");
            }
            b.nationalId(n, regex);
        }
        patterns.forEach(b::nationalId);
        return b.build();
    }
}
