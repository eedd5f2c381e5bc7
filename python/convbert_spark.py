"""PySpark access to dev.convbert.spark.ConvBertClassifier (a Spark ML Transformer in the spark-submit jar).

    spark-submit --jars convbert-spark-0.1.0-SNAPSHOT-spark-submit.jar --py-files python/convbert_spark.py app.py

    from convbert_spark import ConvBertClassifier
    scored = ConvBertClassifier(modelPath="sst2.onnx", textCol="sentence").transform(df)
    # adds rawPrediction (logits), probability and prediction, Spark ML's own columns

Not run on the development machine: PySpark is not installable there (no PyPI, no Debian package).
"""
from pyspark import keyword_only
from pyspark.ml.param.shared import Param, Params, TypeConverters
from pyspark.ml.wrapper import JavaTransformer


class ConvBertClassifier(JavaTransformer):
    """The JVM transformer's params, set from Python; transform() runs on the JVM."""

    modelPath = Param(Params._dummy(), "modelPath", "an .onnx written by 'convbert export'", TypeConverters.toString)
    vocabPath = Param(Params._dummy(), "vocabPath", "vocab.txt (default: the model's own)", TypeConverters.toString)
    textCol = Param(Params._dummy(), "textCol", "column of the first text", TypeConverters.toString)
    pairCol = Param(Params._dummy(), "pairCol", "column of the second text (pair tasks)", TypeConverters.toString)
    maxLength = Param(Params._dummy(), "maxLength", "tokens texts are cut at (0: trained length)", TypeConverters.toInt)
    batchSize = Param(Params._dummy(), "batchSize", "rows per forward pass", TypeConverters.toInt)

    @keyword_only
    def __init__(self, *, modelPath=None, vocabPath=None, textCol=None, pairCol=None, maxLength=None, batchSize=None):
        super().__init__()
        self._java_obj = self._new_java_obj("dev.convbert.spark.ConvBertClassifier", self.uid)
        kwargs = {k: v for k, v in self._input_kwargs.items() if v is not None}
        self._set(**kwargs)
