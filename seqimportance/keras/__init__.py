"""The Keras layer: scikit-learn wrappers, the model builder, model adapters and
the compiled predictor.

It knows nothing of importance: it turns what the user has (a wrapper, a
trained ``keras.Model``, a ``.keras`` file, a Pipeline ending in one) into a
fitted estimator and a fast way to compute its predictions. Importing this
package imports no Keras; its modules import Keras where they need it.
"""
