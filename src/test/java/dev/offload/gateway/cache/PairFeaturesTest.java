package dev.offload.gateway.cache;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each signal of {@link PairFeatures} on pairs that differ in that one thing, and on paraphrases that must not trip it. */
class PairFeaturesTest {
    private static int index(String name) {
        for (int i = 0; i < PairFeatures.NAMES.length; i++) {
            if (PairFeatures.NAMES[i].equals(name)) {
                return i;
            }
        }
        throw new AssertionError(name);
    }

    private static double feature(String name, String a, String b) {
        double[] f = PairFeatures.of(0.9, a, b);
        double[] g = PairFeatures.of(0.9, b, a);
        assertEquals(f[index(name)], g[index(name)], "symmetric: " + name + " of " + a + " / " + b);
        return f[index(name)];
    }

    @Test
    void negation() {
        assertEquals(1, feature("negation_mismatch", "Is the valve open?", "Is the valve not open?"));
        assertEquals(1, feature("negation_mismatch", "Can I restart the pump now?", "Can't I restart the pump now?"));
        assertEquals(1, feature("negation_mismatch", "The pump cannot run dry.", "The pump can run dry."));
        assertEquals(1, feature("negation_mismatch", "Streaming is not available for some datasets, but not all.",
                "Streaming is available for some datasets, but not all."));
        assertEquals(0, feature("negation_mismatch", "Does the pump not start?", "Why doesn't the pump start?"));
        assertEquals(0, feature("negation_mismatch", "No, it does not exist in v2.", "It does not exist in v2."),
                "a leading No, answering is not a negation");
        assertEquals(0, feature("negation_mismatch", "How do I reset the pump?", "What is the way to reset the pump?"));
    }

    @Test
    void numbersAndUnits() {
        assertEquals(1, feature("number_mismatch", "Is the limit 500 requests?", "Is the limit 600 requests?"));
        assertEquals(1, feature("number_mismatch", "What is the torque for 3.5 mm bolts?", "What is the torque for 4.5 mm bolts?"));
        assertEquals(0, feature("number_mismatch", "Change the oil every 5 weeks?", "Change the oil every five weeks?"),
                "spelled numbers count as their digits");
        assertEquals(0, feature("number_mismatch", "Is 1,024 the batch size?", "Is the batch size 1024?"));
        assertEquals(1, feature("unit_mismatch", "Does it need 16 GB of memory?", "Does it need 16 MB of memory?"));
        assertEquals(1, feature("unit_mismatch", "Is the timeout 30 seconds?", "Is the timeout 30 minutes?"));
        assertEquals(1, feature("unit_mismatch", "Does the disk hold 10GB?", "Does the disk hold 10TB?"));
        assertEquals(0, feature("unit_mismatch", "Is the timeout 30 seconds?", "Is the timeout 30 sec?"));
        assertEquals(0, feature("unit_mismatch", "Is it in the manual?", "Is it within the manual?"),
                "a two-letter unit word (in) only counts after a number");
    }

    @Test
    void oppositeActions() {
        assertEquals(1, feature("opposite_action", "How do I turn on the heater?", "How do I turn off the heater?"));
        assertEquals(1, feature("opposite_action", "How do I enable the cache?", "How do I disable the cache?"));
        assertEquals(1, feature("opposite_action", "How do I increase the fan speed?", "How do I decrease the fan speed?"));
        assertEquals(1, feature("opposite_action", "Uploading a model to the hub", "Downloading a model to the hub"));
        assertEquals(1, feature("opposite_action", "You can find it on the main page by clicking on the link.",
                "You can find it off the main page by clicking on the link."), "a side counted, not only seen");
        assertEquals(0, feature("opposite_action", "How do I turn on the heater?", "How can I switch on the heater?"));
        assertEquals(0, feature("opposite_action", "How do I enable the cache?", "How do I enable the cache on the edge?"),
                "one more 'on' without an 'off' is not a turn-around");
    }

    @Test
    void modelsNamesAndQuestionType() {
        assertEquals(1, feature("model_mismatch", "Does the G-2 gearbox need oil?", "Does the G-3 gearbox need oil?"));
        assertEquals(1, feature("model_mismatch", "Is it fixed in v2.10.0?", "Is it fixed in v2.11.0?"));
        assertEquals(0, feature("model_mismatch", "Does gpt2 support it?", "Is it supported by gpt2?"));
        assertEquals(1, feature("model_mismatch", "The `num_rows` method gives the rows.", "The `num_columns` method gives the columns."));
        assertEquals(1, feature("model_mismatch", "Use logging.set_verbosity() here.", "Use logging.get_verbosity() here."));
        assertEquals(0, feature("model_mismatch", "The `to_batches` method converts a table.", "A table is converted by to_batches()."));
        assertEquals(1, feature("name_mismatch", "Does it work with PyTorch?", "Does it work with TensorFlow?"));
        assertEquals(0, feature("name_mismatch", "Does it work with PyTorch?", "Can I use it with pytorch?"),
                "a name is found in the other's words whatever its case");
        assertEquals(1, feature("question_type_mismatch", "How does the pump start?", "Why does the pump start?"));
        assertEquals(0, feature("question_type_mismatch", "How does the pump start?", "How is the pump started?"));
    }

    @Test
    void overlapAndLength() {
        double[] same = PairFeatures.of(1, "How do I reset the pump?", "How do I reset the pump?");
        assertEquals(1, same[index("trigram_jaccard")], 1e-9);
        assertEquals(1, same[index("word_jaccard")], 1e-9);
        assertEquals(1, same[index("length_ratio")], 1e-9);
        assertEquals(0.5, PairFeatures.of(1, "reset the pump", "reset the pump right now please")[index("length_ratio")], 1e-9);
    }

    @Test
    void theSecondCosineIsTheCallersAndNaNWhenNotComputed() {
        assertTrue(Double.isNaN(PairFeatures.of(1, "reset the pump", "reset the pump")[index("second_cosine")]));
        double[] f = PairFeatures.of(0.9, 0.8, PairFeatures.profile("reset the pump"), PairFeatures.profile("reset the pumps"));
        assertEquals(0.8, f[index("second_cosine")], 1e-12);
        assertEquals(0.9, f[index("cosine")], 1e-12);
        assertEquals(PairFeatures.count(), f.length);
    }

    @Test
    void oneWordSwappedForAnotherIsFlaggedWhateverTheWord() {
        // words no list of the features holds: the swap itself is the signal
        assertEquals(1, feature("one_word_swapped", "How do I share the dataset with my team?",
                "How do I withhold the dataset with my team?"));
        assertEquals(1, feature("one_word_swapped", "The limit is 40 lines per file.", "The limit is 40 pages per file."));
        assertEquals(1, feature("one_word_swapped", "Does the pump support remote start?", "Does the pump drop remote start?"));
        assertEquals(1, feature("one_word_swapped", "Is it fixed in v2.10.0?", "Is it fixed in v2.10.1?"));
        assertEquals(1, feature("one_word_swapped", "Can I use it with PyTorch?", "Can I use it with Keras?"));
        assertEquals(1, feature("one_word_swapped", "Store the model on a local disk.", "Store the model on a remote disk."));
    }

    @Test
    void inflectionsSynonymsStopwordsAndRewordingsAreNoSwap() {
        assertEquals(0, feature("one_word_swapped", "How many lines does it read?", "How many line does it read?"),
                "an inflection");
        assertEquals(0, feature("one_word_swapped", "Which tool uses the cache?", "Which tool used the cache?"), "an inflection");
        assertEquals(0, feature("one_word_swapped", "Which studies cover it?", "Which study cover it?"), "an inflection");
        assertEquals(0, feature("one_word_swapped", "How do I use the cache?", "How do I utilize the cache?"), "a known synonym");
        assertEquals(0, feature("one_word_swapped", "Where is the manual?", "Where is a manual?"), "two stopwords");
        assertEquals(0, feature("one_word_swapped", "How do I reset the pump?", "How do I reset the pump?"), "no difference");
        assertEquals(0, feature("one_word_swapped", "How do I share the dataset?", "How can I share the dataset with my team?"),
                "words added, none swapped");
        assertEquals(0, feature("one_word_swapped", "How do I share the dataset?", "What is the way to give others the dataset?"),
                "a rewording differs in more than one word");
        assertEquals(0, feature("one_word_swapped", "Share share the dataset", "Share withhold withhold the dataset"),
                "counts, not sets: two words differ on one side");
    }

    @Test
    void stemsOneCommonInflection() {
        assertEquals(PairFeatures.stem("line"), PairFeatures.stem("lines"));
        assertEquals(PairFeatures.stem("use"), PairFeatures.stem("uses"));
        assertEquals(PairFeatures.stem("use"), PairFeatures.stem("used"));
        assertEquals(PairFeatures.stem("support"), PairFeatures.stem("supported"));
        assertEquals(PairFeatures.stem("study"), PairFeatures.stem("studies"));
        assertTrue(!PairFeatures.stem("line").equals(PairFeatures.stem("page")));
    }
}
