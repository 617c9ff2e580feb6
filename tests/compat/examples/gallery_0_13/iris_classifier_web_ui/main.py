"""bentoml/gallery 0.13-LTS scikit-learn/iris-classifier: main.py (run again after adding the static content)."""

from iris_classifier import IrisClassifier
from sklearn import datasets, svm

if __name__ == "__main__":
    # Load training data
    iris = datasets.load_iris()
    X, y = iris.data, iris.target

    # Model Training
    clf = svm.SVC(gamma="scale")
    clf.fit(X, y)

    # Create a iris classifier service instance
    iris_classifier_service = IrisClassifier()

    # Pack the newly trained model artifact
    iris_classifier_service.pack("model", clf)

    # Save the prediction service to disk for model serving
    saved_path = iris_classifier_service.save()
    print(saved_path)
