/** Vertebra EfficientNet: configurations B0–B7 and compound scaling, the model, weight import and summaries. */
module dev.vertebra.efficientnet {
    requires transitive dev.vertebra.nn;

    exports dev.vertebra.efficientnet;
}
