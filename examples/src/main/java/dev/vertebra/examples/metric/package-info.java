/**
 * The RSNA 2022 cervical-spine competition metric, the submission and label files it reads, and ROC/AUC.
 */
package dev.vertebra.examples.metric;
