"""What routes depend on: the detector the app started with."""

from typing import Annotated

from fastapi import Depends, Request

from dedup.detector import Detector


def get_detector(request: Request) -> Detector:
    detector: Detector = request.app.state.detector
    return detector


DetectorDep = Annotated[Detector, Depends(get_detector)]
