package dev.offload.gateway.generation;

import dev.offload.gateway.metrics.MetricNames;
import dev.offload.gateway.privacy.PiiRedactor;
import dev.offload.gateway.privacy.PiiType;
import dev.offload.gateway.privacy.RedactionSession;
import dev.offload.gateway.privacy.Sensitivity;
import dev.offload.gateway.privacy.StreamingRestorer;
import io.micrometer.core.instrument.MeterRegistry;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The one door out: every request to a backend, from whichever endpoint it came, passes here
 * on its way to a tier ({@link Generator} calls it for each backend call, so a new endpoint
 * cannot forget it). The tier's {@link dev.offload.gateway.privacy.Zone zone} decides:
 * <ul>
 *   <li>restricted data goes to no tier at all;</li>
 *   <li>confidential data goes only to tiers inside the edge zone;</li>
 *   <li>before anything goes to a tier outside the edge zone, personal data in every message
 *       is replaced by numbered placeholders ({@link RedactionSession}); the answer and the
 *       stream get the values back on the way in.</li>
 * </ul>
 * One audit line per call outside the edge zone (logger {@code dev.offload.gateway.audit}):
 * tier, zone, tenant and redaction counts, never content.
 *
 * <p>Thread-safe; an {@link Exit} belongs to one request and is used by one thread at a time.
 */
public final class EgressGate {
    /** One line per call that left the edge zone; never content. */
    private static final Logger AUDIT = Logger.getLogger("dev.offload.gateway.audit");

    private final PiiRedactor redactor;
    private final MeterRegistry registry;

    public EgressGate(PiiRedactor redactor, MeterRegistry registry) {
        this.redactor = redactor;
        this.registry = registry;
    }

    /** May a request of this sensitivity be sent to that tier at all? */
    public static boolean allows(Sensitivity sensitivity, Tier tier) {
        return sensitivity.allows(tier.zone());
    }

    /** Counts a tier the gate kept a request away from. */
    void refused(Sensitivity sensitivity, Tier tier) {
        registry.counter(MetricNames.PRIVACY_REFUSALS, "sensitivity", sensitivity.wireName(), "reason",
                sensitivity == Sensitivity.RESTRICTED ? "restricted" : "external_tier").increment();
    }

    /** The way out for one request; the redacted copy is made once, at the first call that needs it. */
    Exit open(GenerationRequest request) {
        return new Exit(request);
    }

    /** One request's passage: what each tier receives, and how its answer comes back. */
    final class Exit {
        private final GenerationRequest request;
        private RedactionSession session;
        private GenerationRequest redacted;

        private Exit(GenerationRequest request) {
            this.request = request;
        }

        /**
         * The request as {@code tier} may see it.
         *
         * @throws IllegalStateException when the sensitivity forbids the tier (the generator
         *                               filters such tiers first; this is the last line)
         */
        synchronized GenerationRequest outbound(Tier tier) {
            if (!allows(request.sensitivity(), tier)) {
                throw new IllegalStateException("sensitivity " + request.sensitivity().wireName()
                        + " may not leave for tier " + tier.name() + " (zone " + tier.zone().wireName() + ")");
            }
            if (tier.zone().insideEdgeZone()) {
                return request;
            }
            if (redacted == null) {
                session = redactor.newSession();
                List<ChatTurn> out = new ArrayList<>(request.messages().size());
                for (ChatTurn t : request.messages()) {
                    // Tool results are tool messages' content; earlier calls' arguments are text too.
                    List<ToolCall> calls = new ArrayList<>(t.toolCalls().size());
                    for (ToolCall c : t.toolCalls()) {
                        calls.add(new ToolCall(c.id(), c.name(), session.redact(c.arguments())));
                    }
                    out.add(t.with(session.redact(t.content()), calls));
                }
                // The device's own text in the options too: its user id, stop sequences and a legacy
                // completion's suffix (a stop sequence in placeholder form still stops where the model
                // writes that value). Tool definitions and schemas are structure, sent as they are.
                SamplingOptions o = request.options();
                String suffix = o.legacy() == null || o.legacy().suffix() == null ? null : session.redact(o.legacy().suffix());
                SamplingOptions options = o.withText(o.user() == null ? null : session.redact(o.user()),
                        session.redactAll(o.stop()), suffix);
                redacted = request.redacted(out, options);
                session.counts().forEach((type, n) -> registry.counter(MetricNames.PRIVACY_REDACTIONS, "type",
                        type.name().toLowerCase(Locale.ROOT)).increment(n));
            }
            return redacted;
        }

        /** Whether {@link #outbound} for {@code tier} is at hand without redacting (inside the zone, or done already). */
        synchronized boolean prepared(Tier tier) {
            return tier.zone().insideEdgeZone() || redacted != null;
        }

        /**
         * A restorer for the answer {@code tier} streams back, or null when nothing needs
         * restoring (a tier inside the edge zone, or a prompt without personal data).
         */
        synchronized StreamingRestorer restorer(Tier tier) {
            if (tier.zone().insideEdgeZone() || session == null || session.placeholders() == 0) {
                return null;
            }
            return session.streamingRestorer();
        }

        /** Redactions by kind in what left for a tier outside the edge zone; empty when nothing did. */
        synchronized Map<PiiType, Integer> redactions() {
            return session == null ? Map.of() : session.counts();
        }

        /** The audit line of an answer served by {@code tier}. */
        void audit(Tier tier, int attempts) {
            if (!tier.zone().insideEdgeZone()) {
                AUDIT.infof("remote call tier=%s zone=%s tenant=%s redactions=%s attempts=%d", tier.name(),
                        tier.zone().wireName(), request.tenant(), redactions(), attempts);
            }
        }
    }
}
