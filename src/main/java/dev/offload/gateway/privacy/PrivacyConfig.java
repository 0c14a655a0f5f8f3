package dev.offload.gateway.privacy;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.util.List;
import java.util.Map;
import java.util.Set;

/** Sensitivity defaults and PII redaction settings. */
@ConfigMapping(prefix = "gateway.privacy")
public interface PrivacyConfig {
    /** Sensitivity of a document or query that states none ({@code public|internal|confidential|restricted}). */
    @WithDefault("internal")
    Sensitivity defaultSensitivity();

    /**
     * A tenant's own default for requests that state no sensitivity, e.g.
     * {@code gateway.privacy.tenant-sensitivity.hospital=confidential}; tenants not named use
     * {@code default-sensitivity}.
     */
    Map<String, Sensitivity> tenantSensitivity();

    /** The sensitivity of a request from {@code tenant} that states none. */
    default Sensitivity defaultFor(String tenant) {
        Sensitivity s = tenant == null ? null : tenantSensitivity().get(tenant);
        return s != null ? s : defaultSensitivity();
    }

    /** Document metadata key that carries a document's sensitivity at ingest. */
    @WithDefault("sensitivity")
    String sensitivityMetadataKey();

    /**
     * Kinds of personal data to redact before a prompt leaves for an external tier; add
     * {@code person} for names (a gazetteer, not NER: see privacy.md for its precision and recall).
     */
    @WithDefault("email,phone,card,iban,ip,national-id")
    Set<PiiType> piiTypes();

    /**
     * Built-in national-ID patterns to use, by name ({@link PiiRedactor#BUILT_IN_NATIONAL_IDS}:
     * {@code us-ssn}); {@code none} for none.
     */
    @WithDefault("us-ssn")
    List<String> builtInNationalIds();

    /**
     * More national-ID patterns, name → Java regular expression, e.g.
     * {@code gateway.privacy.national-id-patterns.uk-nino=(?<![A-Z0-9])[A-CEGHJ-PR-TW-Z]{2}\\d{6}[A-D](?![A-Z0-9])};
     * a whole match becomes {@code <NATIONAL_ID_n>}. A name equal to a built-in one replaces it.
     */
    Map<String, String> nationalIdPatterns();

    /**
     * Regions (ISO 3166-1 alpha-2) whose national phone numbers ({@code 020 7946 0958} in GB) are
     * found, each one more libphonenumber pass; numbers written with {@code +} are found in any
     * case. An unknown region stops the start.
     */
    @WithDefault("US,GB,DE,FR")
    List<String> phoneRegions();
}
