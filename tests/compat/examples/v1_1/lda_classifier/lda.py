"""BentoML 1.1 examples/custom_python_model/lda_classifier/lda.py: Fisher's linear discriminant,
after https://github.com/eriklindernoren/ML-From-Scratch (rewritten)."""

import numpy as np


def calculate_covariance_matrix(X, Y=None):
    """Calculate the covariance matrix for the dataset X"""
    if Y is None:
        Y = X
    n_samples = np.shape(X)[0]
    covariance_matrix = (1 / (n_samples - 1)) * (X - X.mean(axis=0)).T.dot(Y - Y.mean(axis=0))
    return np.array(covariance_matrix, dtype=float)


class LDA:
    """The Linear Discriminant Analysis classifier, also known as Fisher's linear discriminant."""

    def __init__(self):
        self.w = None

    def transform(self, X, y):
        self.fit(X, y)
        # Project data onto vector
        return X.dot(self.w)

    def fit(self, X, y):
        # Separate data by class
        X1 = X[y == 0]
        X2 = X[y == 1]

        # Calculate the covariance matrices of the two datasets
        cov_tot = calculate_covariance_matrix(X1) + calculate_covariance_matrix(X2)

        # Calculate the mean of the two datasets
        mean_diff = np.atleast_1d(X1.mean(0) - X2.mean(0))

        # Determine the vector which, when X is projected onto it, best separates the classes:
        # w = (mean1 - mean2) / (cov1 + cov2)
        self.w = np.linalg.pinv(cov_tot).dot(mean_diff)

    def predict(self, X):
        y_pred = []
        for sample in X:
            h = sample.dot(self.w)
            y = 1 * (h < 0)
            y_pred.append(y)
        return y_pred
